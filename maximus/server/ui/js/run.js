// One thread's state drawn for a person: the plan with step statuses; per step the candidates
// with their predicted outcomes and critic scores (a bar chart, the chosen one marked), the
// tool call and its result, and the reflection; tokens and model calls so far. Graphs that
// are not the agent show their messages. Steps render lazily (only open ones are built).

import { badge, h, json, s } from "./dom.js";

const MESSAGES_SHOWN = 100;

/** Tokens and model calls: the agent's counters, else summed from the messages' usage. */
export function usage(values) {
  if (values?.counters) return { tokens: values.counters.tokens, calls: values.counters.model_calls, counters: values.counters };
  const ai = (values?.messages || []).filter((m) => m.type === "ai");
  const tokens = ai.reduce((sum, m) => sum + (m.usage_metadata?.total_tokens || 0), 0);
  return { tokens, calls: ai.length, counters: null };
}

function text(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function call(tool, args) {
  return `${tool ?? "answer directly"}(${tool ? JSON.stringify(args ?? {}) : ""})`;
}

/** The critic's scores for one simulation as a horizontal bar chart; the chosen bar marked. */
export function scoreChart(sim) {
  const rowH = 26;
  const labelW = 150;
  const barW = 160;
  const scores = new Map(sim.scores.map((x) => [x.candidate_id, x.score]));
  const rows = sim.candidates.map((c) => ({ c, score: scores.get(c.id) ?? 0, chosen: c.id === sim.chosen_id }));
  const height = rows.length * rowH + 4;
  const summary = rows.map((r) => `candidate ${r.c.id} ${r.c.tool ?? "no tool"}: ${r.score.toFixed(2)}${r.chosen ? " (chosen)" : ""}`).join("; ");
  return s(
    "svg",
    { class: "chart", viewBox: `0 0 ${labelW + barW + 70} ${height}`, width: labelW + barW + 70, height, role: "img", "aria-label": `Critic scores: ${summary}` },
    rows.map((r, i) => {
      const y = i * rowH + 2;
      const label = `${r.chosen ? "★ " : ""}#${r.c.id} ${r.c.tool ?? "no tool"}`;
      return s(
        "g",
        { class: r.chosen ? "bar chosen" : "bar", "data-candidate": r.c.id },
        s("text", { x: 0, y: y + 16, class: "label" }, label.length > 22 ? `${label.slice(0, 21)}…` : label),
        s("rect", { x: labelW, y: y + 4, width: barW, height: rowH - 10, class: "track", rx: 3 }),
        s("rect", { x: labelW, y: y + 4, width: Math.max(1, r.score * barW), height: rowH - 10, class: "fill", rx: 3 }),
        s("text", { x: labelW + barW + 6, y: y + 16, class: "value" }, r.score.toFixed(2)),
      );
    }),
  );
}

function simulation(sim, index, total) {
  const predictions = new Map(sim.predictions.map((p) => [p.candidate_id, p.next_state]));
  const scores = new Map(sim.scores.map((x) => [x.candidate_id, x]));
  return h(
    "div",
    { class: "simulation", dataset: { outcome: sim.outcome } },
    h("h4", {}, total > 1 ? `Candidates (attempt ${index + 1})` : "Candidates", " ", h("span", { class: "muted" }, sim.simulated ? `outcome: ${sim.outcome}` : "simulation off")),
    sim.candidates.length && sim.scores.length ? scoreChart(sim) : null,
    h(
      "table",
      { class: "candidates" },
      h("thead", {}, h("tr", {}, ["#", "Action", "Predicted outcome", "Score", "Critic"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        sim.candidates.map((c) =>
          h(
            "tr",
            { class: c.id === sim.chosen_id ? "chosen" : null, dataset: { candidate: c.id } },
            h("td", {}, c.id === sim.chosen_id ? h("span", { title: "chosen" }, `★ ${c.id}`) : String(c.id)),
            h("td", { class: "mono" }, call(c.tool, c.args), c.side_effecting ? h("span", { class: "badge badge-risk" }, "side effect") : null),
            h("td", {}, predictions.get(c.id) ?? "–"),
            h("td", {}, scores.has(c.id) ? scores.get(c.id).score.toFixed(2) : "–"),
            h("td", { class: "muted" }, scores.get(c.id)?.reason ?? ""),
          ),
        ),
      ),
    ),
  );
}

function stepBody(step, records) {
  const sims = records.simulations.filter((x) => x.step_id === step.id);
  const obs = records.observations.filter((x) => x.step_id === step.id);
  const refl = records.reflections.filter((x) => x.step_id === step.id);
  const appr = records.approvals.filter((x) => x.step_id === step.id);
  return [
    h("p", { class: "muted" }, `Expected: ${step.expected}`, step.tool ? ` · tool: ${step.tool}` : ""),
    sims.map((sim, i) => simulation(sim, i, sims.length)),
    appr.map((a) => h("p", { class: "approval-record" }, a.approved ? "✔ Approved by a human" : "✘ Rejected by a human", a.note ? `: ${a.note}` : "")),
    obs.map((o) =>
      h(
        "div",
        { class: "observation" },
        h("h4", {}, "Tool call"),
        h("p", { class: "mono" }, call(o.tool, o.args)),
        h("h4", {}, o.ok ? "Result" : "Error"),
        h("pre", { class: o.ok ? "result" : "result error" }, o.content),
      ),
    ),
    refl.map((r) =>
      h(
        "div",
        { class: "reflection" },
        h("h4", {}, "Reflection ", badge(r.decision), " ", r.success ? "success" : "not met"),
        h("p", {}, r.critique),
        r.lessons?.length ? h("ul", { class: "lessons" }, r.lessons.map((l) => h("li", {}, l))) : null,
      ),
    ),
  ];
}

function plan(values, openSteps) {
  const run = values.run ?? 0;
  const mine = (list) => (list || []).filter((x) => (x.run ?? run) === run);
  const records = {
    simulations: mine(values.simulations),
    observations: mine(values.observations),
    reflections: mine(values.reflections),
    approvals: mine(values.approvals),
  };
  const current = values.current_step ?? 0;
  const steps = values.plan || [];
  return h(
    "ol",
    { class: "plan" },
    steps.map((step, index) => {
      const active = index === current && !["done", "failed", "exhausted"].includes(values.status);
      const isOpen = openSteps.has(step.id) ? openSteps.get(step.id) : steps.length <= 8 || active;
      const body = h("div", { class: "step-body" });
      const details = h(
        "details",
        { class: active ? "step active" : "step", open: isOpen, dataset: { step: step.id, status: step.status } },
        h("summary", {}, badge(step.status), " ", h("span", {}, step.description), active ? h("span", { class: "muted" }, " · current") : null),
        body,
      );
      const fill = () => {
        if (!body.childElementCount) body.append(...stepBody(step, records).flat());
      };
      if (isOpen) fill();
      details.addEventListener("toggle", () => {
        openSteps.set(step.id, details.open);
        if (details.open) fill();
      });
      return h("li", {}, details);
    }),
  );
}

function messages(values) {
  const list = values.messages || [];
  const shown = list.slice(-MESSAGES_SHOWN);
  return h(
    "section",
    { class: "messages", "aria-labelledby": "messages-title" },
    h("h3", { id: "messages-title" }, "Messages"),
    list.length > shown.length ? h("p", { class: "muted" }, `${list.length - shown.length} earlier messages not shown`) : null,
    h(
      "ol",
      { class: "message-list" },
      shown.map((m) =>
        h(
          "li",
          { class: `message message-${m.type}` },
          h("span", { class: "role" }, m.type),
          h("span", {}, text(m.content) || (m.tool_calls?.length ? m.tool_calls.map((c) => call(c.name, c.args)).join(", ") : "")),
        ),
      ),
    ),
  );
}

function rawState(values) {
  const details = h("details", { class: "raw" }, h("summary", {}, "Raw state"));
  details.addEventListener("toggle", () => {
    if (details.open && details.childElementCount === 1) details.append(json(values));
  });
  return details;
}

/** The whole run view for one state's values. ``openSteps`` keeps the user's open/closed steps. */
export function renderState(values, openSteps = new Map()) {
  values = values || {};
  const { tokens, calls, counters } = usage(values);
  const stats = [
    ["Tokens", tokens],
    ["Model calls", calls],
  ];
  if (counters) stats.push(["Steps run", counters.steps], ["Re-plans", counters.replans], ["Tool errors", counters.tool_errors]);
  return h(
    "div",
    { class: "run-view" },
    h("dl", { class: "stats", "aria-label": "Usage so far" }, stats.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", { dataset: { stat: k } }, String(v ?? 0))))),
    values.status ? h("p", { class: "run-status" }, "Agent status: ", badge(values.status)) : null,
    values.final_answer ? h("div", { class: "answer" }, h("h3", {}, "Answer"), h("p", {}, values.final_answer)) : null,
    values.error ? h("p", { class: "error" }, values.error) : null,
    values.plan ? h("section", { "aria-labelledby": "plan-title" }, h("h3", { id: "plan-title" }, "Plan"), plan(values, openSteps)) : null,
    !values.plan && values.messages ? messages(values) : null,
    rawState(values),
  );
}
