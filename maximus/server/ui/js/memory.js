// Memory: the caller's long-term records by type, search, add and delete. Vault entries come
// back from the server already redacted; this page never asks for a secret.

import { api } from "./api.js";
import { errorText, h, labelled, replace, submitForm, toast, when } from "./dom.js";

const TYPES = ["core", "episodic", "semantic", "procedural", "resource", "vault"];
/** The main text field of each type, and a template for "add". */
const SHAPES = {
  core: { title: "label", text: "value", template: { label: "human", value: "" } },
  episodic: { title: "summary", text: "details", template: { summary: "", details: "" } },
  semantic: { title: "name", text: "summary", template: { name: "", summary: "" } },
  procedural: { title: "name", text: "description", template: { name: "", description: "", steps: [] } },
  resource: { title: "title", text: "summary", template: { title: "", summary: "", content: "" } },
  vault: { title: "caption", text: "source", template: { caption: "", entry_type: "credential", secret: "" } },
};

function card(record, onDelete, score) {
  const shape = SHAPES[record.kind] || { title: "id", text: "" };
  const fields = Object.entries(record).filter(([k]) => !["id", "kind", "user_id", "agent_id", "namespace", "created_at", "updated_at", shape.title, shape.text].includes(k));
  return h(
    "article",
    { class: "record", dataset: { record: record.id, kind: record.kind } },
    h("h3", {}, String(record[shape.title] ?? record.id), " ", h("span", { class: "badge" }, record.kind), score !== undefined ? h("span", { class: "muted" }, ` score ${score.toFixed(3)}`) : null),
    record[shape.text] ? h("p", {}, String(record[shape.text])) : null,
    h(
      "dl",
      { class: "facts" },
      fields.filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length)).map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, typeof v === "string" ? v : JSON.stringify(v))]),
    ),
    h("p", { class: "muted" }, "updated ", when(record.updated_at)),
    h("button", { type: "button", class: "quiet delete", "aria-label": `Delete ${record.kind} memory ${record[shape.title] ?? record.id}`, onclick: () => onDelete(record) }, "Delete"),
  );
}

export async function render(main) {
  const kind = h("select", { id: "memory-kind" }, TYPES.map((t) => h("option", { value: t }, t)));
  const query = h("input", { id: "memory-query", type: "search", placeholder: "what to look for" });
  const list = h("div", { id: "memory-list", "aria-live": "polite" });
  const body = h("textarea", { id: "memory-body", rows: 6, class: "mono" });
  const addKind = h("select", { id: "memory-add-kind" }, TYPES.map((t) => h("option", { value: t }, t)));
  const error = h("p", { class: "error", role: "alert" });
  const template = () => (body.value = JSON.stringify(SHAPES[addKind.value].template, null, 2));
  addKind.addEventListener("change", template);
  template();

  async function remove(record) {
    if (!confirm(`Delete this ${record.kind} memory?`)) return;
    await api("DELETE", `/memory/${record.kind}/${encodeURIComponent(record.id)}`).catch((err) => toast(errorText(err), "error"));
    await browse();
  }
  async function browse() {
    replace(list, h("p", { class: "muted" }, "Loading…"));
    const page = await api("GET", `/memory/${kind.value}?limit=50`);
    replace(list, page.records.length ? page.records.map((r) => card(r, remove)) : h("p", { class: "muted" }, `No ${kind.value} memories.`));
  }
  async function search(event) {
    event.preventDefault();
    if (!query.value.trim()) return browse();
    const hits = await api("POST", "/memory/search", { query: query.value.trim(), k: 20 });
    replace(list, hits.length ? hits.map((x) => card(x.record, remove, x.score)) : h("p", { class: "muted" }, "Nothing found."));
  }
  kind.addEventListener("change", () => browse().catch((err) => replace(error, errorText(err))));

  main.append(
    h("h1", {}, "Memory"),
    h(
      "div",
      { class: "layout-2" },
      h(
        "section",
        { "aria-label": "Records" },
        h(
          "form",
          { class: "toolbar", role: "search", onsubmit: (e) => search(e).catch((err) => replace(error, errorText(err))) },
          labelled("Search", query),
          h("button", { type: "submit" }, "Search"),
        ),
        h("div", { class: "toolbar" }, labelled("Browse type", kind)),
        error,
        list,
      ),
      submitForm(
        { class: "card", "aria-labelledby": "memory-add-title" },
        async () => {
          replace(error);
          try {
            const record = await api("POST", `/memory/${addKind.value}`, JSON.parse(body.value));
            toast(`Stored ${record.kind} memory.`);
            kind.value = addKind.value;
            template();
            await browse();
          } catch (err) {
            replace(error, err instanceof SyntaxError ? "The record is not valid JSON." : errorText(err));
          }
        },
        h("h2", { id: "memory-add-title" }, "Add a memory"),
        labelled("Type", addKind),
        labelled("Record (JSON)", body),
        h("button", { type: "submit" }, "Add"),
      ),
    ),
  );
  await browse();
}
