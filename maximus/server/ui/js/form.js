// A form built from a JSON schema (a graph's input or context schema): strings, numbers,
// booleans and enums get inputs; a list of messages gets one text box (sent as a human
// message); anything else gets a JSON box. Empty fields are left out of the payload.

import { h, labelled } from "./dom.js";

function nonNull(prop) {
  const alternatives = prop.anyOf || prop.oneOf;
  if (!alternatives) return { type: prop.type, spec: prop, nullable: false };
  const rest = alternatives.filter((alt) => alt.type !== "null");
  const spec = rest.length === 1 ? { ...prop, ...rest[0] } : prop;
  return { type: rest.length === 1 ? rest[0].type : "json", spec, nullable: rest.length < alternatives.length };
}

function isMessages(prop) {
  return prop.type === "array" && JSON.stringify(prop.items || {}).includes("HumanMessage");
}

/** Which of a schema's properties the form shows, and how. */
export function fieldsOf(schema) {
  const props = schema?.properties || {};
  const required = new Set(schema?.required || []);
  const hasText = Object.entries(props).some(([, p]) => nonNull(p).type === "string");
  const out = [];
  for (const [name, prop] of Object.entries(props)) {
    if (isMessages(prop)) {
      if (required.has(name) || !hasText) out.push({ name, kind: "message", title: "Message", required: required.has(name) });
      continue;
    }
    const { type, spec, nullable } = nonNull(prop);
    let kind = "json";
    if (spec.enum) kind = "enum";
    else if (type === "boolean") kind = nullable ? "tristate" : "boolean";
    else if (type === "integer" || type === "number") kind = type;
    else if (type === "string") kind = name === "goal" ? "text" : "string";
    out.push({ name, kind, title: prop.title || name, description: prop.description, enum: spec.enum, required: required.has(name) && !nullable });
  }
  return out;
}

function control(field, id) {
  const common = { id, name: field.name, required: field.required || undefined };
  switch (field.kind) {
    case "message":
    case "text":
      return h("textarea", { ...common, rows: 3 });
    case "enum":
      return h("select", common, h("option", { value: "" }, "(default)"), field.enum.map((v) => h("option", { value: v }, v)));
    case "tristate":
      return h("select", common, h("option", { value: "" }, "(default)"), h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no"));
    case "boolean":
      return h("input", { ...common, type: "checkbox", required: undefined });
    case "integer":
      return h("input", { ...common, type: "number", step: 1, inputmode: "numeric" });
    case "number":
      return h("input", { ...common, type: "number", step: "any", inputmode: "decimal" });
    case "string":
      return h("input", { ...common, type: "text" });
    default:
      return h("textarea", { ...common, rows: 2, placeholder: "JSON", class: "mono" });
  }
}

function value(field, el) {
  if (field.kind === "boolean") return el.checked;
  const raw = el.value.trim();
  if (raw === "") return undefined;
  switch (field.kind) {
    case "message":
      return [{ type: "human", content: raw }];
    case "tristate":
      return raw === "true";
    case "integer":
      return Number.parseInt(raw, 10);
    case "number":
      return Number(raw);
    case "json":
      try {
        return JSON.parse(raw);
      } catch {
        throw new Error(`${field.title}: not valid JSON`);
      }
    default:
      return raw;
  }
}

/** A fieldset for a schema; returns {element, read()} where read() gives the payload. */
export function schemaFieldset(schema, legend, prefix) {
  const fields = fieldsOf(schema);
  const controls = fields.map((field) => [field, control(field, `${prefix}-${field.name}`)]);
  const element = h(
    "fieldset",
    { class: "schema-form" },
    h("legend", {}, legend),
    controls.map(([field, el]) =>
      h(
        "div",
        { class: field.kind === "boolean" ? "field check" : "field" },
        labelled(field.title, el),
        field.description && field.kind !== "message" ? h("small", { class: "muted" }, field.description.split("\n")[0]) : null,
      ),
    ),
  );
  return {
    element,
    empty: fields.length === 0,
    read() {
      const out = {};
      for (const [field, el] of controls) {
        const v = value(field, el);
        if (v !== undefined) out[field.name] = v;
      }
      return out;
    },
  };
}
