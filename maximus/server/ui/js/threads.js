// Threads: the caller's threads (status, last update, search) and a "new run" form per graph,
// built from the graph's input and context schemas.

import { api } from "./api.js";
import { badge, errorText, h, labelled, replace, submitForm, toast, when } from "./dom.js";
import { schemaFieldset } from "./form.js";

const PAGE = 50;

/** The text a thread is about: the goal, else the first human message. */
export function topic(values) {
  if (!values || typeof values !== "object") return "";
  if (values.goal) return String(values.goal);
  const human = (values.messages || []).find((m) => m.type === "human");
  return human ? String(typeof human.content === "string" ? human.content : JSON.stringify(human.content)) : "";
}

function row(thread) {
  const goal = topic(thread.values);
  return h(
    "tr",
    { dataset: { thread: thread.thread_id } },
    h("td", {}, h("a", { href: `#/threads/${encodeURIComponent(thread.thread_id)}` }, goal || thread.thread_id.slice(0, 8))),
    h("td", {}, thread.metadata?.graph_id || "–"),
    h("td", {}, badge(thread.status)),
    h("td", {}, when(thread.updated_at)),
    h("td", { class: "mono muted" }, thread.thread_id.slice(0, 8)),
  );
}

async function newRunForm(assistants) {
  const select = h(
    "select",
    { id: "run-graph", name: "graph" },
    assistants.map((a) => h("option", { value: a.assistant_id, dataset: { graph: a.graph_id } }, a.graph_id)),
  );
  const slot = h("div", { class: "schema-slot" });
  const error = h("p", { class: "error", role: "alert" });
  let input = null;
  let context = null;
  const preferred = assistants.find((a) => a.graph_id === "maximus") || assistants[0];
  if (preferred) select.value = preferred.assistant_id;

  async function load() {
    replace(error);
    replace(slot, h("p", { class: "muted" }, "Loading the graph's schemas…"));
    const schemas = await api("GET", `/assistants/${encodeURIComponent(select.value)}/schemas`);
    input = schemaFieldset(schemas.input_schema, "Input", "in");
    context = schemaFieldset(schemas.context_schema, "Options", "ctx");
    replace(slot, input.element, context.empty ? null : h("details", { class: "options" }, h("summary", {}, "Run options"), context.element));
  }
  select.addEventListener("change", () => load().catch((err) => replace(error, errorText(err))));

  const form = submitForm(
    { class: "card new-run", "aria-labelledby": "new-run-title" },
    async () => {
      replace(error);
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const body = { assistant_id: select.value, input: input.read(), stream_mode: ["values"] };
        const ctx = context.read();
        if (Object.keys(ctx).length) body.context = ctx;
        const graphId = select.selectedOptions[0].dataset.graph;
        const thread = await api("POST", "/threads", { metadata: { graph_id: graphId } });
        const run = await api("POST", `/threads/${thread.thread_id}/runs`, body);
        location.hash = `#/threads/${thread.thread_id}?run=${run.run_id}`;
      } catch (err) {
        replace(error, errorText(err));
        button.disabled = false;
      }
    },
    h("h2", { id: "new-run-title" }, "New run"),
    h("div", { class: "field" }, labelled("Graph", select)),
    slot,
    h("button", { type: "submit" }, "Start run"),
    error,
  );
  if (preferred) await load();
  return form;
}

export async function render(main) {
  const [assistants, first] = await Promise.all([
    api("POST", "/assistants/search", { limit: 100 }),
    api("POST", "/threads/search", { limit: PAGE }),
  ]);
  let threads = first;
  const body = h("tbody");
  const status = h(
    "select",
    { id: "thread-status", name: "status" },
    ["", "idle", "busy", "interrupted", "error"].map((v) => h("option", { value: v }, v || "any status")),
  );
  const search = h("input", { id: "thread-search", name: "q", type: "search", placeholder: "goal, graph or id" });
  const more = h("button", { type: "button", class: "quiet" }, "Load more");
  const count = h("p", { class: "muted", role: "status" });
  const formSlot = h("div", { class: "card new-run", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the run form…"));

  function draw() {
    const q = search.value.trim().toLowerCase();
    const shown = threads.filter(
      (t) => !q || [topic(t.values), t.thread_id, t.metadata?.graph_id || ""].some((x) => x.toLowerCase().includes(q)),
    );
    replace(body, shown.length ? shown.map(row) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No threads yet.")));
    replace(count, `${shown.length} of ${threads.length} loaded threads`);
    more.hidden = threads.length % PAGE !== 0 || threads.length === 0;
  }
  async function reload() {
    const filter = { limit: PAGE };
    if (status.value) filter.status = status.value;
    threads = await api("POST", "/threads/search", filter);
    draw();
  }
  search.addEventListener("input", draw);
  status.addEventListener("change", () => reload().catch((err) => toast(errorText(err), "error")));
  more.addEventListener("click", async () => {
    const filter = { limit: PAGE, offset: threads.length };
    if (status.value) filter.status = status.value;
    threads = threads.concat(await api("POST", "/threads/search", filter));
    draw();
  });

  main.append(
    h("h1", {}, "Threads"),
    h(
      "div",
      { class: "layout-2" },
      h(
        "section",
        { "aria-labelledby": "threads-title" },
        h("h2", { id: "threads-title", class: "visually-hidden" }, "Your threads"),
        h(
          "div",
          { class: "toolbar", role: "search" },
          labelled("Search", search),
          labelled("Status", status),
        ),
        h(
          "table",
          { class: "threads" },
          h("thead", {}, h("tr", {}, ["Goal", "Graph", "Status", "Updated", "Id"].map((c) => h("th", { scope: "col" }, c)))),
          body,
        ),
        count,
        more,
      ),
      formSlot,
    ),
  );
  draw();
  // The list is drawn first; the form waits for the graph's schemas.
  newRunForm(assistants)
    .then((form) => formSlot.replaceWith(form))
    .catch((err) => replace(formSlot, h("p", { class: "error", role: "alert" }, errorText(err))));
}
