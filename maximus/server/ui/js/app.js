// The page's shell: sign-in, the #/ router and the navigation. Each view is a module that
// exports render(main, params) and may return a cleanup function (e.g. to stop a stream).

import { ApiError, BASE, api, auth } from "./api.js";
import { errorText, h, labelled, replace, submitForm } from "./dom.js";

const ROUTES = [
  [/^#\/threads\/([^/?]+)$/, "thread", () => import("./thread.js")],
  [/^#\/graph(?:\/([^/?]+))?$/, "graph", () => import("./graph.js")],
  [/^#\/memory$/, "memory", () => import("./memory.js")],
  [/^#\/plugins$/, "plugins", () => import("./plugins.js")],
  [/^(?:#\/?|#\/threads|)$/, "threads", () => import("./threads.js")],
];

const main = document.getElementById("main");
const signOut = document.getElementById("sign-out");
let cleanup = null;
let generation = 0;

function signIn(message) {
  const input = h("input", {
    id: "api-key",
    name: "api-key",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const form = submitForm(
    { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    async () => {
      auth.set(input.value.trim());
      try {
        await api("POST", "/assistants/search", { limit: 1 });
      } catch (err) {
        auth.clear();
        replace(error, err instanceof ApiError && err.status === 401 ? "That key is not accepted." : errorText(err));
        input.focus();
        return;
      }
      route();
    },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    h("p", { class: "muted" }, "Your key stays in this browser tab (session storage) and is sent only to this server."),
    labelled("API key or token", input),
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  stop();
  replace(main, form);
  signOut.hidden = true;
  input.focus();
}

function stop() {
  generation += 1;
  if (cleanup) cleanup();
  cleanup = null;
}

let authMode = null;

async function needsKey() {
  if (auth.key) return false;
  if (authMode === null) {
    const response = await fetch(`${BASE}/ui/config.json`);
    authMode = response.ok ? (await response.json()).auth : "api_key";
  }
  return authMode !== "none" && !auth.key;
}

async function route() {
  stop();
  document.getElementById("toast").replaceChildren();
  if (await needsKey()) {
    signIn("");
    return;
  }
  const mine = generation;
  const hash = location.hash.split("?")[0];
  const [re, name, load] = ROUTES.find(([pattern]) => pattern.test(hash)) || ROUTES[ROUTES.length - 1];
  const params = (hash.match(re) || []).slice(1);
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name || (name === "thread" && link.dataset.nav === "threads")) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  }
  signOut.hidden = !auth.key;
  try {
    const view = await load();
    if (mine !== generation) return;
    replace(main);
    const done = await view.render(main, ...params.map((p) => (p ? decodeURIComponent(p) : p)));
    if (mine === generation) cleanup = typeof done === "function" ? done : null;
    else if (typeof done === "function") done();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return; // the sign-in form is up
    if (mine === generation) replace(main, h("p", { class: "error", role: "alert" }, errorText(err)));
  }
}

window.addEventListener("maximus:unauthorized", () => {
  if (main.querySelector(".sign-in")) return; // the form reports its own refusal
  auth.clear();
  signIn("Your key was refused; sign in again.");
});
window.addEventListener("hashchange", route);
signOut.addEventListener("click", () => {
  auth.clear();
  signIn("");
});
route();
