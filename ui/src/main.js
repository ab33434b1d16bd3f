// The lineage explorer: hash routes (every view and node has a URL), GraphQL reads, a graph,
// detail panels, run comparison. Each view is a module of views/; this file routes to them.
import "./style.css";
import { connection } from "./api.js";
import { h, link } from "./dom.js";
import { load, onAuthNeeded } from "./feedback.js";
import { go, onRender, parseRoute } from "./router.js";
import { graphView } from "./views/lineage.js";
import { modelView } from "./views/models.js";
import { compareView, runView } from "./views/runs.js";
import { home, search } from "./views/search.js";

const main = document.getElementById("main");

let current = 0;
async function render() {
  const token = ++current; // a slow view must not draw over a newer one
  const { view, arg, params } = parseRoute();
  const fresh = h("div", { class: `view view-${view || "home"}` });
  main.replaceChildren(fresh);
  const views = { "": home, search, graph: graphView, run: runView, compare: compareView, model: modelView };
  const fn = views[view];
  if (!fn) {
    fresh.append(h("p", {}, `No page "${view}". `, link("#/", "Start over")));
    return;
  }
  await load(() => fn(fresh, arg, params, () => token === current));
}

// ---------------------------------------------------------------- connection settings

const dialog = document.getElementById("settings");
function openSettings(why = "") {
  document.getElementById("settings-why").textContent =
    why || "A token is needed when the server requires authentication.";
  document.getElementById("token").value = connection.token;
  document.getElementById("project").value = connection.project;
  if (!dialog.open) dialog.showModal();
}
document.getElementById("settings-button").addEventListener("click", () => openSettings(""));
document.getElementById("settings-cancel").addEventListener("click", () => dialog.close());
document.getElementById("settings-form").addEventListener("submit", () => {
  connection.save(
    document.getElementById("token").value.trim(),
    document.getElementById("project").value.trim(),
  );
  render();
});

// ---------------------------------------------------------------- search

document.getElementById("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = document.getElementById("search-text").value.trim();
  if (text) go("search", "", { q: text, kind: document.getElementById("search-kind").value });
});

onRender(render);
onAuthNeeded(openSettings);
window.addEventListener("hashchange", render);
render();
