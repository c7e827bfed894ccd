// One thread: its run drawn live over SSE (rendered at most once a frame, so long runs stay
// responsive), the interrupt panel, and the history timeline with open, replay and fork.

import { api, sse } from "./api.js";
import { badge, errorText, h, labelled, replace, toast, when } from "./dom.js";
import { interruptPanel } from "./interrupt.js";
import { renderState } from "./run.js";
import { topic } from "./threads.js";

const HISTORY_PAGE = 25;

export async function render(main, threadId) {
  const path = `/threads/${encodeURIComponent(threadId)}`;
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("run");
  let thread = await api("GET", path);
  const openSteps = new Map();
  const title = h("h1", {}, topic(thread.values) || `Thread ${threadId.slice(0, 8)}`);
  const statusEl = h("span", { id: "thread-status" }, badge(thread.status));
  const live = h("p", { class: "live muted", role: "status", "aria-live": "polite" });
  const runSlot = h("div", { id: "run", dataset: { events: 0 } });
  const interruptSlot = h("div", { id: "interrupt-slot" });
  const historySlot = h("div", { id: "history" });
  const openedSlot = h("div", { id: "opened" });
  let controller = null;
  let pending = null;
  let events = 0;
  let interruptKey = "";

  function draw(values) {
    pending = values;
    if (draw.frame) return;
    draw.frame = requestAnimationFrame(() => {
      draw.frame = 0;
      replace(runSlot, renderState(pending, openSteps));
      runSlot.dataset.events = String(events);
    });
  }

  function showInterrupts(interrupts) {
    const key = JSON.stringify(interrupts || []);
    if (key === interruptKey) return;
    interruptKey = key;
    replace(interruptSlot, interrupts?.length ? interruptPanel(interrupts, resume) : null);
    if (interrupts?.length) interruptSlot.querySelector("button")?.focus();
  }

  const assistant = () => thread.metadata?.graph_id || "maximus";

  async function refresh() {
    const [fresh, state] = await Promise.all([api("GET", path), api("GET", `${path}/state`)]);
    thread = fresh;
    replace(statusEl, badge(thread.status));
    draw(state.values);
    showInterrupts(state.interrupts);
    return state;
  }

  async function follow(runId) {
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    replace(live, `Live: following run ${runId.slice(0, 8)}…`);
    replace(statusEl, badge("busy"));
    let lastEventId = null;
    // A dropped stream is resumed after its last event (Last-Event-ID), while the run lasts.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        const stream = sse(`${path}/runs/${runId}/stream`, undefined, { signal: mine.signal, lastEventId });
        for await (const event of stream) {
          events += 1;
          lastEventId = event.id ?? lastEventId;
          if (event.event === "values") {
            draw(event.data);
            if (event.data?.__interrupt__) showInterrupts(event.data.__interrupt__);
          } else if (event.event === "error") {
            toast(`Run failed: ${event.data?.message || event.data?.error}`, "error");
          }
        }
      } catch (err) {
        if (mine.signal.aborted) return;
        if (err.status === 404) break; // the server no longer keeps this run: show the state
        toast(errorText(err), "error");
      }
      if (mine.signal.aborted) return;
      const run = await api("GET", `${path}/runs/${runId}`).catch(() => null);
      if (!run || !["pending", "running"].includes(run.status)) break;
    }
    if (controller !== mine) return;
    controller = null;
    replace(live, `Run ${runId.slice(0, 8)} ended (${events} events).`);
    await refresh();
    if (historySlot.childElementCount) await loadHistory();
  }

  // Run options (the context) are per run: a resume, fork or replay reuses the last run's, so
  // that e.g. on_risk="human" still holds after an approval is answered.
  async function lastContext() {
    const runs = await api("GET", `${path}/runs`);
    const newest = runs.sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
    return newest?.kwargs?.context || undefined;
  }

  async function start(body) {
    const context = await lastContext();
    const run = await api("POST", `${path}/runs`, { assistant_id: assistant(), stream_mode: ["values"], context, ...body });
    showInterrupts([]);
    await follow(run.run_id);
  }

  async function resume(value) {
    replace(interruptSlot);
    interruptKey = "";
    await start({ command: { resume: value } });
  }

  // --- history -----------------------------------------------------------------------------
  let history = [];

  function open(entry) {
    replace(
      openedSlot,
      h(
        "section",
        { class: "card opened", "aria-labelledby": "opened-title", tabindex: -1 },
        h("h3", { id: "opened-title" }, `Checkpoint at step ${entry.metadata?.step ?? "?"}`),
        h("p", { class: "muted" }, `next: ${entry.next.join(", ") || "(end)"} · ${entry.checkpoint.checkpoint_id}`),
        renderState(entry.values),
        labelled("Values to change before forking (JSON)", h("textarea", { id: "fork-values", rows: 3, class: "mono" }, "{}")),
        h(
          "div",
          { class: "buttons" },
          h("button", { type: "button", class: "fork", onclick: () => fork(entry).catch((err) => toast(errorText(err), "error")) }, "Fork from here"),
          h("button", { type: "button", class: "replay", onclick: () => replay(entry).catch((err) => toast(errorText(err), "error")) }, "Replay from here"),
        ),
      ),
    );
    openedSlot.firstChild.focus();
  }

  async function fork(entry) {
    const values = JSON.parse(document.getElementById("fork-values").value || "{}");
    const made = await api("POST", `${path}/state`, { values, checkpoint_id: entry.checkpoint.checkpoint_id });
    toast(`Forked at checkpoint ${made.checkpoint.checkpoint_id.slice(0, 13)}…`);
    await start({ input: null, checkpoint_id: made.checkpoint.checkpoint_id });
  }

  async function replay(entry) {
    await start({ input: null, checkpoint_id: entry.checkpoint.checkpoint_id });
  }

  function historyItem(entry) {
    const writes = entry.metadata?.writes ? Object.keys(entry.metadata.writes).join(", ") : "";
    return h(
      "li",
      { dataset: { checkpoint: entry.checkpoint.checkpoint_id } },
      h("span", { class: "step-no" }, `step ${entry.metadata?.step ?? "?"}`),
      h("span", {}, entry.metadata?.source ?? ""),
      writes ? h("span", { class: "mono" }, writes) : null,
      h("span", { class: "muted" }, entry.next.length ? `→ ${entry.next.join(", ")}` : "→ end"),
      when(entry.created_at),
      h("button", { type: "button", class: "quiet open", onclick: () => open(entry) }, "Open"),
    );
  }

  async function loadHistory(more = false) {
    const body = { limit: HISTORY_PAGE };
    if (more && history.length) body.before = { checkpoint_id: history[history.length - 1].checkpoint.checkpoint_id };
    const page = await api("POST", `${path}/history`, body);
    history = more ? history.concat(page) : page;
    replace(
      historySlot,
      h("ol", { class: "timeline" }, history.map(historyItem)),
      page.length === HISTORY_PAGE
        ? h("button", { type: "button", class: "quiet", onclick: () => loadHistory(true).catch((err) => toast(errorText(err), "error")) }, "Older checkpoints")
        : null,
    );
  }

  const historySection = h(
    "details",
    { class: "card history" },
    h("summary", {}, h("h2", {}, "History")),
    historySlot,
    openedSlot,
  );
  historySection.addEventListener("toggle", () => {
    if (historySection.open && !historySlot.childElementCount) loadHistory().catch((err) => toast(errorText(err), "error"));
  });

  main.append(
    h("p", {}, h("a", { href: "#/threads" }, "← Threads")),
    title,
    h(
      "p",
      { class: "meta" },
      statusEl,
      " ",
      h("span", { class: "muted" }, `graph ${assistant()} · updated `),
      when(thread.updated_at),
      " ",
      h("a", { href: `#/graph/${encodeURIComponent(assistant())}` }, "graph diagram"),
    ),
    live,
    interruptSlot,
    runSlot,
    historySection,
  );

  const state = await refresh();
  let runId = wanted;
  if (!runId && thread.status === "busy") {
    const runs = await api("GET", `${path}/runs`);
    runId = runs.find((r) => r.status === "running" || r.status === "pending")?.run_id;
  }
  if (runId) follow(runId);
  else if (!state.values || !Object.keys(state.values).length) replace(live, "No run on this thread yet.");
  return () => {
    if (controller) controller.abort();
    cancelAnimationFrame(draw.frame);
  };
}
