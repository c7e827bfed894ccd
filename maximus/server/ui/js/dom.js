// Small DOM helpers: elements are built with h(), never from HTML strings, so text from runs
// (tool results, model output) can never become markup.

/** Create an element: h("a", {href: "#/x", class: "y"}, "text", child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an SVG element. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A control with its label (bound by the control's id), as a pair that h() flattens. */
export function labelled(text, control) {
  return [h("label", { for: control.id }, text), control];
}

/** A <form> whose submit runs `submit(event)` in the page instead of navigating away. */
export function submitForm(attrs, submit, ...children) {
  const onsubmit = (event) => {
    event.preventDefault();
    return submit(event);
  };
  return h("form", { ...attrs, onsubmit }, ...children);
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** "3 min ago" style text for an ISO time, with the full time as a title. */
export function when(iso) {
  if (!iso) return h("span", {}, "–");
  const t = new Date(iso);
  const secs = Math.round((Date.now() - t.getTime()) / 1000);
  let text;
  if (secs < 60) text = `${Math.max(secs, 0)} s ago`;
  else if (secs < 3600) text = `${Math.round(secs / 60)} min ago`;
  else if (secs < 86400) text = `${Math.round(secs / 3600)} h ago`;
  else text = t.toLocaleDateString();
  return h("time", { datetime: iso, title: t.toLocaleString() }, text);
}

/** A status badge. */
export function badge(status) {
  return h("span", { class: `badge badge-${String(status).replace(/[^a-z_]/g, "")}` }, status);
}

/** Pretty JSON in a <pre>. */
export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

/** Show a short message in the live region. */
export function toast(text, kind = "info") {
  const el = document.getElementById("toast");
  replace(el, h("span", { class: `toast toast-${kind}` }, text));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.replaceChildren(), 6000);
}

/** The human-readable message of an error thrown by api(). */
export function errorText(err) {
  return err?.body?.message || err?.message || String(err);
}
