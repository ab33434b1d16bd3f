// The lineage explorer: hash routes (every view and node has a URL), GraphQL reads, a graph,
// detail panels, run comparison.
import "./style.css";
import { ApiError, connection, gql } from "./api.js";
import { metricChart } from "./charts.js";
import { Graph, STATUS_COLOUR } from "./graph.js";
import * as Q from "./queries.js";

const main = document.getElementById("main");
const banner = document.getElementById("banner");

// ---------------------------------------------------------------- small DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const fmt = (v) =>
  v === null || v === undefined
    ? "–"
    : typeof v === "number"
      ? Number.isInteger(v) ? v.toLocaleString("en") : Number(v.toPrecision(5)).toString()
      : typeof v === "object" ? JSON.stringify(v) : String(v);

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

function table(headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c instanceof Node ? c : fmt(c)))))),
  );
}

function kv(obj) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return h("p", { class: "muted" }, "none");
  return table(["key", "value"], entries.map(([k, v]) => [k, v]), { class: "kv" });
}

function badge(status) {
  if (!status) return "";
  return h("span", { class: `badge status-${status}`, style: `border-color:${STATUS_COLOUR[status] || "#64748b"}` }, status.replace("_", " "));
}

const link = (hash, text) => h("a", { href: hash }, text);
const nodeLink = (nodeId, text) => link(`#/graph/${encodeURIComponent(nodeId)}`, text);

// ---------------------------------------------------------------- routing

function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [view = "", ...rest] = path.split("/");
  return { view, arg: decodeURIComponent(rest.join("/")), params: new URLSearchParams(query) };
}

function go(view, arg = "", params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const hash = `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ""}${q.toString() ? `?${q}` : ""}`;
  if (location.hash !== hash) location.hash = hash;
  else render();
}

function replaceParams(params) {
  const { view, arg, params: current } = parseRoute();
  for (const [k, v] of Object.entries(params)) (v === null || v === undefined ? current.delete(k) : current.set(k, v));
  const q = current.toString();
  history.replaceState(null, "", `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ""}${q ? `?${q}` : ""}`);
}

function showError(err) {
  if (err instanceof ApiError && err.auth) {
    openSettings(err.message);
    return;
  }
  banner.hidden = false;
  banner.textContent = err.message || String(err);
}

async function load(fn) {
  banner.hidden = true;
  try {
    return await fn();
  } catch (err) {
    showError(err);
    return null;
  }
}

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
  document.getElementById("settings-why").textContent = why || "A token is needed when the server requires authentication.";
  document.getElementById("token").value = connection.token;
  document.getElementById("project").value = connection.project;
  if (!dialog.open) dialog.showModal();
}
document.getElementById("settings-button").addEventListener("click", () => openSettings(""));
document.getElementById("settings-cancel").addEventListener("click", () => dialog.close());
document.getElementById("settings-form").addEventListener("submit", () => {
  connection.save(document.getElementById("token").value.trim(), document.getElementById("project").value.trim());
  render();
});

// ---------------------------------------------------------------- search

document.getElementById("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = document.getElementById("search-text").value.trim();
  if (text) go("search", "", { q: text, kind: document.getElementById("search-kind").value });
});

function hitHref(hit) {
  if (hit.kind === "registered_model") return `#/model/${encodeURIComponent(hit.name)}`;
  if (hit.kind === "run") return `#/run/${hit.nodeId.split(":")[1]}`;
  return `#/graph/${encodeURIComponent(hit.nodeId)}`;
}

async function search(el, _arg, params, live) {
  const text = params.get("q") || "";
  const kind = params.get("kind") || "";
  document.getElementById("search-text").value = text;
  document.getElementById("search-kind").value = kind;
  const data = await gql(Q.SEARCH, { text, kinds: kind ? [kind] : null });
  if (!live()) return;
  el.append(h("h1", {}, `“${text}”`, kind ? ` in ${kind.replace("_", " ")}s` : ""));
  if (!data.search.length) {
    el.append(h("p", { class: "muted" }, "Nothing by that name."));
    return;
  }
  el.append(
    table(
      ["name", "kind", "version", "experiment"],
      data.search.map((hit) => [link(hitHref(hit), hit.name), hit.kind.replace("_", " "), hit.version, hit.detail]),
      { class: "results" },
    ),
  );
}

async function home(el, _arg, _params, live) {
  const data = await gql(Q.HOME);
  if (!live()) return;
  el.append(
    h("h1", {}, "Lineage explorer"),
    h("p", { class: "muted" }, "Search by name above, or start from a model or a run."),
    h("section", {}, h("h2", {}, "Models"),
      data.models.nodes.length
        ? table(["model", "latest", "aliases", "updated"], data.models.nodes.map((m) => [
            link(`#/model/${encodeURIComponent(m.name)}`, m.name), m.latestVersion,
            Object.entries(m.aliases).map(([a, v]) => `${a} → v${v}`).join(", "), when(m.updatedAt)]))
        : h("p", { class: "muted" }, "No registered models yet.")),
    h("section", {}, h("h2", {}, "Recent runs"),
      data.runs.nodes.length
        ? table(["run", "experiment", "state", "started"], data.runs.nodes.map((r) => [
            link(`#/run/${r.id}`, r.name || r.uuid), r.experiment, r.state, when(r.startedAt)]))
        : h("p", { class: "muted" }, "No runs yet.")),
  );
}

// ---------------------------------------------------------------- graph view

let graph = null;

async function graphView(el, nodeId, params, live) {
  const depth = Number(params.get("depth") || 2);
  const direction = (params.get("dir") || "both").toUpperCase();
  performance.mark("mlledger:graph-start");
  const data = await gql(Q.LINEAGE, { node: nodeId, direction, depth });
  performance.mark("mlledger:graph-fetched");
  if (!live()) return;
  const info = h("span", { class: "muted", id: "graph-info" });
  const pathButton = h("button", { type: "button", id: "path-button", title: "Select a node, press this, then click another node (or shift-click it)" }, "Path to…");
  const toolbar = h(
    "div",
    { class: "toolbar" },
    h("label", {}, "depth ", h("select", { id: "depth", onchange: (e) => go("graph", nodeId, { depth: e.target.value, dir: params.get("dir"), sel: params.get("sel") }) },
      [1, 2, 3, 4, 6, 8, 12].map((d) => h("option", { value: d, selected: d === depth }, d)))),
    h("label", {}, "direction ", h("select", { id: "direction", onchange: (e) => go("graph", nodeId, { depth, dir: e.target.value, sel: params.get("sel") }) },
      ["both", "upstream", "downstream"].map((d) => h("option", { value: d, selected: d.toUpperCase() === direction }, d)))),
    h("button", { type: "button", id: "fit", onclick: () => graph.fit() }, "Fit"),
    h("button", { type: "button", id: "collapse", onclick: () => collapseSelected() }, "Collapse"),
    pathButton,
    h("button", { type: "button", id: "clear-path", onclick: () => { graph.clearPath(); say(`${graph.size} nodes`); } }, "Clear path"),
    legend(),
    info,
  );
  const canvas = h("div", { id: "graph", "data-root": data.lineage.root });
  const panel = h("aside", { id: "detail" });
  el.append(h("h1", {}, "Lineage of ", h("code", {}, nodeId)), toolbar, h("div", { class: "split" }, canvas, panel));

  // The status line: an expansion that finishes late must not overwrite a newer message.
  let said = 0;
  const say = (text) => {
    said += 1;
    info.textContent = text;
  };
  let pathFrom = null;
  let armed = false;
  pathButton.addEventListener("click", () => {
    armed = true;
    pathFrom = params.get("sel") || data.lineage.root;
    say(`path from ${pathFrom}: click the other end`);
  });

  const started = performance.now();
  graph = new Graph(canvas, {
    onSelect: async (id, shift) => {
      if ((armed || shift) && (pathFrom || params.get("sel"))) {
        const from = pathFrom || params.get("sel");
        armed = false;
        pathFrom = null;
        const n = graph.highlightPath(from, id);
        say(n ? `path ${from} → ${id}: ${n} nodes` : `no path between ${from} and ${id}`);
        return;
      }
      params.set("sel", id);
      replaceParams({ sel: id });
      await showDetail(panel, id);
      if (!graph.isExpanded(id)) await expand(id);
    },
  });
  graph.load(data.lineage);
  performance.mark("mlledger:graph-laid-out");
  canvas.dataset.renderMs = String(Math.round(performance.now() - started));
  // First render: request, layout and the first frame drawn (bench/ui reads these marks).
  requestAnimationFrame(() => {
    performance.mark("mlledger:graph-ready");
    performance.measure("mlledger:graph", "mlledger:graph-start", "mlledger:graph-ready");
    performance.measure("mlledger:graph-fetch", "mlledger:graph-start", "mlledger:graph-fetched");
  });
  say(`${graph.size} nodes${data.lineage.truncated ? " (truncated: the server's node limit)" : ""}`);

  async function expand(id) {
    const before = said;
    const more = await load(() => gql(Q.LINEAGE, { node: id, direction: "BOTH", depth: 1 }));
    if (!more) return;
    const added = graph.expand(id, more.lineage);
    if (params.get("sel") === id) graph.select(id);
    if (said === before) say(`${graph.size} nodes (+${added} around ${id})`);
  }

  function collapseSelected() {
    const sel = params.get("sel");
    if (!sel) return;
    const removed = graph.collapse(sel);
    say(`${graph.size} nodes (−${removed})`);
  }

  const sel = params.get("sel") || data.lineage.root;
  graph.select(sel);
  await showDetail(panel, sel);
}

function legend() {
  return h("span", { class: "legend" }, Object.entries(STATUS_COLOUR).map(([s, c]) =>
    h("span", { class: "legend-item" }, h("i", { style: `border-color:${c}` }), s.replace("_", " "))));
}

// ---------------------------------------------------------------- detail panels

async function showDetail(panel, nodeId) {
  panel.dataset.wanted = nodeId; // the last click wins, whichever answer comes back first
  panel.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  const [type, raw] = nodeId.split(":");
  const id = Number(raw);
  const body = type === "artifact" ? await load(() => artifactDetail(id)) : await load(() => executionDetail(id));
  if (panel.dataset.wanted !== nodeId) return;
  panel.replaceChildren(...(body || [h("p", { class: "muted" }, "Could not load this node.")]));
  panel.dataset.node = nodeId;
}

async function artifactDetail(id) {
  const { artifact: a } = await gql(Q.ARTIFACT, { id });
  if (!a) return [h("p", {}, `artifact ${id} does not exist (in this project).`)];
  const { artifacts } = await gql(Q.VERSIONS, { name: a.name });
  const out = [
    h("h2", {}, a.name, h("small", {}, ` v${a.version}`), " ", badge(a.status)),
    h("p", { class: "muted" }, `${a.kind} · ${a.state} · ${when(a.createdAt)} · `, link(`#/graph/${encodeURIComponent(a.nodeId)}`, "centre here")),
    table(["", ""], [["uri", a.uri], ["fingerprint", a.fingerprint]], { class: "kv" }),
    h("h3", {}, "Properties"),
    kv(a.properties),
    h("h3", {}, "Versions"),
    table(["version", "created", "status", "fingerprint"], artifacts.nodes.map((v) => [
      v.version === a.version ? h("b", {}, v.version) : nodeLink(v.nodeId, v.version), when(v.createdAt), badge(v.status), v.fingerprint])),
  ];
  if (a.kind === "dataset") out.push(...dataGate(a.dataGate));
  if (a.kind === "model") out.push(h("p", {}, "Registry: ", link(`#/model/${encodeURIComponent(a.name)}`, `model ${a.name}`), " (versions, blessing, pushes)"));
  out.push(h("h3", {}, "Written by"), listNodes(a.producers), h("h3", {}, "Read by"), listNodes(a.consumers));
  return out;
}

function listNodes(items, shown = 50) {
  if (!items.length) return h("p", { class: "muted" }, "none");
  const more = items.length > shown ? h("li", { class: "muted" }, `… and ${items.length - shown} more (see the graph)`) : "";
  return h("ul", {}, items.slice(0, shown).map((e) => h("li", {}, nodeLink(e.nodeId, `${e.kind} ${e.name}`), ` (${e.state})`)), more);
}

function dataGate(gate) {
  if (!gate) return [h("h3", {}, "Data gate"), h("p", { class: "muted" }, "Never validated.")];
  const out = [h("h3", {}, "Data gate ", badge(gate.status)), h("p", { class: "muted" }, `decided ${when(gate.updatedAt)}`)];
  if (gate.reasons.length) {
    out.push(h("h4", {}, "Anomalies"), table(["feature", "kind", "severity", "message"],
      gate.reasons.map((r) => [r.feature || "(dataset)", r.kind, r.severity, r.message]), { class: "anomalies" }));
  }
  const stats = gate.statistics;
  if (stats) {
    out.push(h("h4", {}, `Statistics (${fmt(stats.num_examples)} examples)`), table(
      ["feature", "type", "missing", "mean / unique", "std / top values", "min", "median", "max"],
      stats.features.map((f) => [f.name, f.type, f.missing_ratio !== undefined ? `${(100 * f.missing_ratio).toFixed(1)} %` : "–",
        f.mean ?? f.unique, f.std_dev ?? (f.top_values || []).map((t) => `${t.value} (${fmt(t.count)})`).join(", "),
        f.min, f.median, f.max]),
      { class: "statistics" }));
  }
  return out;
}

async function executionDetail(id) {
  const { execution: e } = await gql(Q.EXECUTION, { id });
  if (!e) return [h("p", {}, `execution ${id} does not exist (in this project).`)];
  const ends = (edges) => edges.length
    ? h("ul", {}, edges.map((x) => h("li", {}, nodeLink(x.artifact.nodeId, `${x.artifact.kind} ${x.artifact.name}:${x.artifact.version}`), x.role ? ` as ${x.role}` : "")))
    : h("p", { class: "muted" }, "none");
  return [
    h("h2", {}, e.name, " ", h("small", {}, e.kind)),
    h("p", { class: "muted" }, `${e.state} · ${when(e.startedAt)} → ${when(e.endedAt)}`, e.codeVersion ? ` · code ${e.codeVersion}` : ""),
    e.kind === "run" ? h("p", {}, link(`#/run/${e.id}`, "Open the run: params, metric curves, comparison")) : "",
    h("h3", {}, "Params"), kv(e.params),
    h("h3", {}, "Properties"), kv(e.properties),
    h("h3", {}, "Inputs"), ends(e.inputs),
    h("h3", {}, "Outputs"), ends(e.outputs),
    e.contexts.length ? h("p", { class: "muted" }, e.contexts.map((c) => `${c.kind} ${c.name}`).join(" · ")) : "",
  ];
}

// ---------------------------------------------------------------- runs

async function histories(run, keys) {
  const out = await Promise.all(keys.map((key) => gql(Q.HISTORY, { id: String(run.id), key })));
  return out.map((d) => d.run.history);
}

async function runView(el, id, _params, live) {
  const { run } = await gql(Q.RUN, { id });
  if (!live()) return;
  if (!run) {
    el.append(h("p", {}, `No run ${id}.`));
    return;
  }
  const keys = run.metrics.map((m) => m.key).slice(0, 12);
  const series = await histories(run, keys);
  if (!live()) return;
  const charts = h("div", { class: "charts" });
  const { runs } = await gql(Q.RUNS, { experiment: [run.experiment], first: 50 });
  const picked = new Set([String(run.id)]);
  const compare = h("button", { type: "button", id: "compare-button", onclick: () => go("compare", "", { runs: [...picked].join(",") }) }, "Compare selected");
  el.append(
    h("h1", {}, run.name || run.uuid, " ", h("small", {}, run.state)),
    h("p", { class: "muted" }, `experiment ${run.experiment} · ${run.uuid} · ${when(run.startedAt)} → ${when(run.endedAt)}`,
      run.codeVersion ? ` · code ${run.codeVersion}` : "", " · ", run.execution ? nodeLink(run.execution.nodeId, "lineage") : ""),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "Params"), kv(run.params), h("h2", {}, "Tags"), kv(run.tags),
        h("h2", {}, "Latest metrics"), table(["metric", "value", "step"], run.metrics.map((m) => [m.key, m.value, m.step]), { class: "metrics" })),
      h("section", {}, h("h2", {}, "Metric curves"), charts)),
    h("section", {}, h("h2", {}, `Runs of ${run.experiment}`),
      table(["", "run", "state", "started", ...keys.slice(0, 4)], runs.nodes.map((r) => {
        const box = h("input", { type: "checkbox", "data-run": r.id, checked: picked.has(String(r.id)), onchange: (e) => (e.target.checked ? picked.add(String(r.id)) : picked.delete(String(r.id))) });
        const latest = Object.fromEntries(r.metrics.map((m) => [m.key, m.value]));
        return [box, link(`#/run/${r.id}`, r.name || r.uuid), r.state, when(r.startedAt), ...keys.slice(0, 4).map((k) => latest[k])];
      }), { class: "runs" }),
      compare),
  );
  series.forEach((s) => s && s.steps.length && metricChart(charts, s.key, [{ label: run.name || run.uuid, steps: s.steps, values: s.values }]));
  if (!series.length) charts.append(h("p", { class: "muted" }, "No metrics logged."));
}

async function compareView(el, _arg, params, live) {
  const ids = (params.get("runs") || "").split(",").filter(Boolean);
  if (ids.length < 2) {
    el.append(h("p", {}, "Pick two or more runs to compare (from a run's page)."));
    return;
  }
  const runs = (await Promise.all(ids.map((id) => gql(Q.RUN, { id })))).map((d) => d.run).filter(Boolean);
  if (!live()) return;
  const label = (r) => r.name || r.uuid.slice(0, 8);
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
  const differs = (values) => new Set(values.map((v) => JSON.stringify(v))).size > 1;
  const paramRows = paramKeys.map((k) => [k, ...runs.map((r) => r.params[k])]);
  const metricRows = metricKeys.map((k) => [k, ...runs.map((r) => r.metrics.find((m) => m.key === k)?.value)]);
  const mark = (tableEl, rows) => {
    [...tableEl.querySelectorAll("tbody tr")].forEach((tr, i) => differs(rows[i].slice(1)) && tr.classList.add("differs"));
    return tableEl;
  };
  const charts = h("div", { class: "charts overlay" });
  el.append(
    h("h1", {}, `Comparing ${runs.length} runs`),
    h("h2", {}, "Params"), mark(table(["param", ...runs.map(label)], paramRows, { class: "compare-params" }), paramRows),
    h("h2", {}, "Final metrics"), mark(table(["metric", ...runs.map(label)], metricRows, { class: "compare-metrics" }), metricRows),
    h("h2", {}, "Curves"), charts,
  );
  for (const key of metricKeys.slice(0, 12)) {
    const per = await Promise.all(runs.map((r) => gql(Q.HISTORY, { id: String(r.id), key })));
    if (!live()) return;
    const series = per.map((d, i) => d.run.history && { label: label(runs[i]), steps: d.run.history.steps, values: d.run.history.values }).filter(Boolean);
    metricChart(charts, key, series);
  }
}

// ---------------------------------------------------------------- models

async function modelView(el, name, params, live) {
  const { model } = await gql(Q.MODEL, { name });
  if (!live()) return;
  if (!model) {
    el.append(h("p", {}, `No model ${name}.`));
    return;
  }
  const chosen = Number(params.get("version")) || model.aliases.production || model.latestVersion;
  const version = model.versions.find((v) => v.version === chosen) || model.versions[0];
  el.append(
    h("h1", {}, model.name),
    model.description ? h("p", {}, model.description) : "",
    h("p", { class: "muted" }, Object.entries(model.aliases).map(([a, v]) => `${a} → v${v}`).join(" · ") || "no aliases"),
    h("h2", {}, "Versions"),
    table(["version", "aliases", "blessing", "created", "metrics", ""], model.versions.map((v) => [
      link(`#/model/${encodeURIComponent(name)}?version=${v.version}`, `v${v.version}`),
      v.aliases.join(", "), badge(v.artifact?.status), when(v.createdAt),
      Object.entries(v.metrics).map(([k, x]) => `${k} ${fmt(x)}`).join(", "),
      v.artifact ? nodeLink(v.artifact.nodeId, "lineage") : ""]), { class: "versions" }),
  );
  if (version) el.append(...blessing(model, version), ...trainingData(version));
  el.append(h("h2", {}, "Push history"), model.pushes.length
    ? table(["when", "action", "alias", "version", "from", "outcome", "reasons", "by"], model.pushes.map((p) => [
        when(p.createdAt), p.action, p.alias, p.version ? `v${p.version}` : "–", p.previousVersion ? `v${p.previousVersion}` : "–",
        badge(p.outcome === "pushed" ? "pushed" : p.outcome === "refused" ? "refused" : ""), (p.reasons || []).map((r) => r.message).join("; "), p.actor]),
      { class: "pushes" })
    : h("p", { class: "muted" }, "Never pushed."));
  if (model.gate) {
    el.append(h("h2", {}, `Gate (revision ${model.gate.revision})`), table(["metric", "value threshold", "change threshold"],
      model.gate.thresholds.map((t) => [t.metric, t.value_threshold ? JSON.stringify(t.value_threshold) : "–", t.change_threshold ? JSON.stringify(t.change_threshold) : "–"])),
      model.gate.slicing_specs?.length ? h("p", { class: "muted" }, `slices: ${model.gate.slicing_specs.map((s) => JSON.stringify(s)).join(", ")}`) : "");
  }
}

function blessing(model, v) {
  const b = v.blessing;
  const out = [h("h2", {}, `Blessing of v${v.version} `, b ? badge(b.blessed ? "blessed" : "not_blessed") : "")];
  if (!b) return [...out, h("p", { class: "muted" }, model.gate ? "Not evaluated yet." : "This model has no gate.")];
  out.push(h("p", { class: "muted" }, `evaluated ${when(b.createdAt)} against ${b.baselineVersion ? `v${b.baselineVersion}` : "no incumbent"}, gate revision ${b.gateRevision}`));
  out.push(table(["slice", "metric", "value", "incumbent", "bound", "verdict", ""], b.checks.map((c) => [
    c.slice, c.metric, c.value, c.baseline, c.bound, h("span", { class: c.skipped ? "skip" : c.passed ? "pass" : "fail" }, c.skipped ? "skipped" : c.passed ? "pass" : "FAIL"), c.message]),
    { class: "thresholds" }));
  return out;
}

// What a push goes by besides the blessing: every dataset the version was trained on passed
// its data gate. Validations sit downstream of the datasets, so the model's own lineage
// never shows them; here they are, from the model.
function trainingData(v) {
  const out = [h("h2", {}, `Training data of v${v.version}`)];
  if (!v.trainingData.length) return [...out, h("p", { class: "muted" }, "No training datasets in its lineage: no data gate vouches for it.")];
  out.push(table(["dataset", "data gate", "reasons", "validated"], v.trainingData.map((d) => [
    nodeLink(d.artifact.nodeId, `${d.artifact.name}:${d.artifact.version}`),
    badge(d.status === "none" ? "never validated" : d.status),
    (d.dataGate?.reasons || []).slice(0, 3).map((r) => `${r.feature || "(dataset)"}: ${r.message}`).join("; "),
    d.dataGate ? when(d.dataGate.updatedAt) : "–"]), { class: "training-data" }));
  return out;
}

window.addEventListener("hashchange", render);
render();
