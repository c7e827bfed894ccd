// The graph diagram, laid out here from /assistants/{id}/graph (no network, no library):
// back edges are found by a depth-first walk from __start__, nodes are layered by their
// longest path over the rest, and back edges are drawn as curves on the right.

import { api } from "./api.js";
import { h, labelled, replace, s } from "./dom.js";

const NODE_W = 120;
const NODE_H = 34;
const GAP_X = 40;
const GAP_Y = 56;

/** Layers and back edges for nodes and edges ({source, target}); pure, for the diagram. */
export function layout(nodes, edges) {
  const ids = nodes.map((n) => n.id);
  const out = new Map(ids.map((id) => [id, []]));
  for (const e of edges) out.get(e.source)?.push(e.target);
  const back = new Set();
  const state = new Map();
  const visit = (id) => {
    state.set(id, "open");
    for (const next of out.get(id) || []) {
      if (state.get(next) === "open") back.add(`${id}->${next}`);
      else if (!state.has(next)) visit(next);
    }
    state.set(id, "done");
  };
  if (out.has("__start__")) visit("__start__");
  for (const id of ids) if (!state.has(id)) visit(id);
  const layer = new Map(ids.map((id) => [id, 0]));
  for (let round = 0; round < ids.length; round += 1) {
    let changed = false;
    for (const e of edges) {
      if (back.has(`${e.source}->${e.target}`) || !layer.has(e.target)) continue;
      const want = layer.get(e.source) + 1;
      if (layer.get(e.target) < want) {
        layer.set(e.target, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const others = ids.filter((id) => id !== "__end__").map((id) => layer.get(id));
  if (layer.has("__end__") && others.length) layer.set("__end__", Math.max(layer.get("__end__"), Math.max(...others) + 1));
  return { layer, back };
}

function diagram(graph) {
  const { layer, back } = layout(graph.nodes, graph.edges);
  const rows = [];
  for (const node of graph.nodes) (rows[layer.get(node.id)] ||= []).push(node);
  const widest = Math.max(...rows.map((r) => (r ? r.length : 0)));
  const width = widest * (NODE_W + GAP_X) + 140;
  const height = rows.length * (NODE_H + GAP_Y) + 20;
  const pos = new Map();
  rows.forEach((row, y) => {
    (row || []).forEach((node, x) => {
      const offset = (width - 140 - row.length * (NODE_W + GAP_X)) / 2;
      pos.set(node.id, { x: offset + x * (NODE_W + GAP_X) + GAP_X / 2, y: y * (NODE_H + GAP_Y) + 10 });
    });
  });
  const edgePaths = graph.edges.map((e) => {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    if (!a || !b) return null;
    let d;
    if (back.has(`${e.source}->${e.target}`) || layer.get(e.source) >= layer.get(e.target)) {
      const x1 = a.x + NODE_W;
      const x2 = b.x + NODE_W;
      const bulge = Math.max(x1, x2) + 40 + Math.abs(a.y - b.y) / 6;
      d = `M${x1},${a.y + NODE_H / 2} C${bulge},${a.y + NODE_H / 2} ${bulge},${b.y + NODE_H / 2} ${x2 + 2},${b.y + NODE_H / 2}`;
    } else {
      const x1 = a.x + NODE_W / 2;
      const x2 = b.x + NODE_W / 2;
      const y1 = a.y + NODE_H;
      const y2 = b.y - 2;
      d = `M${x1},${y1} C${x1},${(y1 + y2) / 2} ${x2},${(y1 + y2) / 2} ${x2},${y2}`;
    }
    return s("path", { d, class: e.conditional ? "edge conditional" : "edge", "marker-end": "url(#arrow)", "data-edge": `${e.source}->${e.target}` });
  });
  return s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": "graph-title" },
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z" }))),
    edgePaths,
    graph.nodes.map((node) => {
      const p = pos.get(node.id);
      const terminal = node.id === "__start__" || node.id === "__end__";
      return s(
        "g",
        { class: terminal ? "node terminal" : "node", "data-node": node.id },
        s("rect", { x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: terminal ? 17 : 6 }),
        s("text", { x: p.x + NODE_W / 2, y: p.y + NODE_H / 2 + 5 }, terminal ? node.id.replaceAll("_", "") : node.id),
      );
    }),
  );
}

export async function render(main, assistantId) {
  const assistants = await api("POST", "/assistants/search", { limit: 100 });
  const chosen = assistantId || assistants.find((a) => a.graph_id === "maximus")?.graph_id || assistants[0]?.graph_id;
  const select = h(
    "select",
    { id: "graph-select", onchange: () => (location.hash = `#/graph/${encodeURIComponent(select.value)}`) },
    assistants.map((a) => h("option", { value: a.graph_id, selected: a.graph_id === chosen }, a.graph_id)),
  );
  const slot = h("div", { class: "graph card" });
  main.append(h("h1", { id: "graph-title" }, `Graph: ${chosen}`), h("div", { class: "toolbar" }, labelled("Graph", select)), slot);
  const graph = await api("GET", `/assistants/${encodeURIComponent(chosen)}/graph`);
  replace(
    slot,
    diagram(graph),
    h("p", { class: "muted" }, "Dashed arrows are conditional edges."),
    h(
      "details",
      {},
      h("summary", {}, "Edges as text"),
      h("ul", {}, graph.edges.map((e) => h("li", {}, `${e.source} → ${e.target}${e.conditional ? " (conditional)" : ""}`))),
    ),
  );
}
