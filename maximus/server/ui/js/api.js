// The HTTP API, exactly as the SDK uses it: JSON over fetch, SSE over a streamed fetch (an
// EventSource cannot send credentials), the key kept in sessionStorage only.

const KEY = "maximus.apiKey";
/** Where the API lives: the page is served at <base>/ui/. */
export const BASE = location.pathname.replace(/\/ui(\/.*)?$/, "");

export const auth = {
  get key() {
    return sessionStorage.getItem(KEY) || "";
  },
  set(key) {
    sessionStorage.setItem(KEY, key);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function headers(extra = {}) {
  const out = { accept: "application/json", ...extra };
  // Bearer works for both API keys and JWTs (the server reads either from it).
  if (auth.key) out.authorization = `Bearer ${auth.key}`;
  return out;
}

async function check(response) {
  if (response.ok) return response;
  const body = await response.json().catch(() => ({ message: response.statusText }));
  if (response.status === 401) window.dispatchEvent(new CustomEvent("maximus:unauthorized"));
  throw new ApiError(response.status, body);
}

/** Call the API; returns the parsed JSON body (null for 204). */
export async function api(method, path, body, options = {}) {
  const init = { method, headers: headers(), signal: options.signal };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await check(await fetch(BASE + path, init));
  return response.status === 204 ? null : response.json();
}

/**
 * Stream server-sent events: POST with a JSON body (or GET when body is undefined), yielding
 * {id, event, data} with data parsed as JSON.
 */
export async function* sse(path, body, { signal, lastEventId } = {}) {
  const extra = { accept: "text/event-stream" };
  if (lastEventId) extra["last-event-id"] = String(lastEventId);
  const init = { method: body === undefined ? "GET" : "POST", headers: headers(extra), signal };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await check(await fetch(BASE + path, init));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) yield event;
    }
  }
}

/** One SSE block to {id, event, data}; comments (pings) give null. */
export function parseBlock(block) {
  let id = null;
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const text = data.join("\n");
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { id, event, data: parsed };
}
