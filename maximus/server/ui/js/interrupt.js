// An interrupt waiting for a human. The agent's approval requests get Approve / Reject, editable
// arguments and a note; any other interrupt gets a JSON box for the resume value.

import { errorText, h, json, labelled, replace } from "./dom.js";

function approval(request, resume) {
  const original = JSON.stringify(request.action?.args ?? {}, null, 2);
  const args = h("textarea", { id: "approval-args", rows: Math.min(12, original.split("\n").length + 1), class: "mono" }, original);
  const note = h("input", { id: "approval-note", type: "text" });
  const error = h("p", { class: "error", role: "alert" });
  async function answer(approved) {
    replace(error);
    const value = { approved, note: note.value };
    if (approved && args.value.trim() !== original.trim()) {
      try {
        value.args = JSON.parse(args.value);
      } catch {
        replace(error, "The arguments are not valid JSON.");
        args.focus();
        return;
      }
    }
    await resume(value).catch((err) => replace(error, errorText(err)));
  }
  const score = request.score;
  return [
    h("p", { class: "question" }, request.question || "Approve this action?"),
    request.step ? h("p", {}, "Step: ", request.step.description) : null,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Action"),
      h("dd", { class: "mono" }, request.action?.tool ?? "–"),
      h("dt", {}, "Predicted outcome"),
      h("dd", {}, request.predicted ?? "–"),
      h("dt", {}, "Critic score"),
      h("dd", {}, score ? `${score.score.toFixed(2)} (threshold ${request.threshold ?? "–"}) – ${score.reason}` : "–"),
    ),
    labelled("Arguments (edit before approving)", args),
    labelled("Note", note),
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", class: "approve", onclick: () => answer(true) }, "Approve"),
      h("button", { type: "button", class: "reject danger", onclick: () => answer(false) }, "Reject"),
    ),
    error,
  ];
}

function generic(value, resume) {
  const box = h("textarea", { id: "resume-value", rows: 3, class: "mono" }, "true");
  const error = h("p", { class: "error", role: "alert" });
  return [
    json(value),
    labelled("Resume value (JSON)", box),
    h(
      "div",
      { class: "buttons" },
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            let parsed;
            try {
              parsed = JSON.parse(box.value);
            } catch {
              replace(error, "Not valid JSON.");
              return;
            }
            await resume(parsed).catch((err) => replace(error, errorText(err)));
          },
        },
        "Resume",
      ),
    ),
    error,
  ];
}

/** The panel for the first pending interrupt; ``resume(value)`` resumes the run. */
export function interruptPanel(interrupts, resume) {
  const first = interrupts[0];
  const value = first?.value ?? first;
  return h(
    "section",
    { class: "card interrupt", "aria-labelledby": "interrupt-title" },
    h("h2", { id: "interrupt-title" }, value?.type === "approval" ? "Approval needed" : "The run is waiting for you"),
    value?.type === "approval" ? approval(value, resume) : generic(value, resume),
  );
}
