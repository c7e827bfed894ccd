// Plugins: every plugin found, its state and tools; admins may enable and disable them (the
// server answers 403 to anyone else, which the page shows).

import { api } from "./api.js";
import { badge, errorText, h, replace, toast } from "./dom.js";

export async function render(main) {
  const body = h("tbody");
  const note = h("p", { class: "muted", role: "status" });

  async function toggle(plugin, action) {
    try {
      await api("POST", `/plugins/${encodeURIComponent(plugin.name)}/${action}`);
      toast(`${plugin.name}: ${action}d.`);
      await load();
    } catch (err) {
      replace(note, err.status === 403 ? "Only admins may enable or disable plugins." : errorText(err));
    }
  }
  async function load() {
    const plugins = await api("GET", "/plugins");
    replace(
      body,
      plugins.length
        ? plugins.map((p) => {
            const on = p.state !== "disabled";
            return h(
              "tr",
              { dataset: { plugin: p.name } },
              h("th", { scope: "row" }, p.name),
              h("td", {}, badge(p.state)),
              h("td", {}, p.type || "–"),
              h("td", { class: "mono" }, (p.tools || []).join(", ") || "–"),
              h("td", { class: "plugin-error" }, p.error || ""),
              h(
                "td",
                {},
                h("button", { type: "button", class: "quiet", "aria-label": `${on ? "Disable" : "Enable"} ${p.name}`, onclick: () => toggle(p, on ? "disable" : "enable") }, on ? "Disable" : "Enable"),
              ),
            );
          })
        : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No plugins found.")),
    );
  }
  main.append(
    h("h1", {}, "Plugins"),
    h("table", {}, h("thead", {}, h("tr", {}, ["Name", "State", "Type", "Tools", "Error", "Action"].map((c) => h("th", { scope: "col" }, c)))), body),
    note,
  );
  await load();
}
