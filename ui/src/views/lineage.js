// The graph view and the detail panels of its nodes.
import { gql } from "../api.js";
import { badge, fmt, h, kv, link, nodeLink, table, when } from "../dom.js";
import { load } from "../feedback.js";
import { Graph, STATUS_COLOUR } from "../graph.js";
import * as Q from "../queries.js";
import { go, replaceParams } from "../router.js";

let graph = null;

export async function graphView(el, nodeId, params, live) {
  const depth = Number(params.get("depth") || 2);
  const direction = (params.get("dir") || "both").toUpperCase();
  performance.mark("mlledger:graph-start");
  const data = await gql(Q.LINEAGE, { node: nodeId, direction, depth });
  performance.mark("mlledger:graph-fetched");
  if (!live()) return;
  const info = h("span", { class: "muted", id: "graph-info" });
  const pathButton = h(
    "button",
    {
      type: "button",
      id: "path-button",
      title: "Select a node, press this, then click another node (or shift-click it)",
    },
    "Path to…",
  );
  const toolbar = h(
    "div",
    { class: "toolbar" },
    h(
      "label",
      {},
      "depth ",
      h(
        "select",
        {
          id: "depth",
          onchange: (e) =>
            go("graph", nodeId, { depth: e.target.value, dir: params.get("dir"), sel: params.get("sel") }),
        },
        [1, 2, 3, 4, 6, 8, 12].map((d) => h("option", { value: d, selected: d === depth }, d)),
      ),
    ),
    h(
      "label",
      {},
      "direction ",
      h(
        "select",
        {
          id: "direction",
          onchange: (e) => go("graph", nodeId, { depth, dir: e.target.value, sel: params.get("sel") }),
        },
        ["both", "upstream", "downstream"].map((d) =>
          h("option", { value: d, selected: d.toUpperCase() === direction }, d),
        ),
      ),
    ),
    h("button", { type: "button", id: "fit", onclick: () => graph.fit() }, "Fit"),
    h("button", { type: "button", id: "collapse", onclick: () => collapseSelected() }, "Collapse"),
    pathButton,
    h(
      "button",
      {
        type: "button",
        id: "clear-path",
        onclick: () => {
          graph.clearPath();
          say(`${graph.size} nodes`);
        },
      },
      "Clear path",
    ),
    legend(),
    info,
  );
  const canvas = h("div", { id: "graph", "data-root": data.lineage.root });
  const panel = h("aside", { id: "detail" });
  el.append(
    h("h1", {}, "Lineage of ", h("code", {}, nodeId)),
    toolbar,
    h("div", { class: "split" }, canvas, panel),
  );

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
  return h(
    "span",
    { class: "legend" },
    Object.entries(STATUS_COLOUR).map(([s, c]) =>
      h("span", { class: "legend-item" }, h("i", { style: `border-color:${c}` }), s.replace("_", " ")),
    ),
  );
}

// ---------------------------------------------------------------- detail panels

async function showDetail(panel, nodeId) {
  panel.dataset.wanted = nodeId; // the last click wins, whichever answer comes back first
  panel.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  const [type, raw] = nodeId.split(":");
  const id = Number(raw);
  const body =
    type === "artifact" ? await load(() => artifactDetail(id)) : await load(() => executionDetail(id));
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
    h(
      "p",
      { class: "muted" },
      `${a.kind} · ${a.state} · ${when(a.createdAt)} · `,
      link(`#/graph/${encodeURIComponent(a.nodeId)}`, "centre here"),
    ),
    table(
      ["", ""],
      [
        ["uri", a.uri],
        ["fingerprint", a.fingerprint],
      ],
      { class: "kv" },
    ),
    h("h3", {}, "Properties"),
    kv(a.properties),
    h("h3", {}, "Versions"),
    table(
      ["version", "created", "status", "fingerprint"],
      artifacts.nodes.map((v) => [
        v.version === a.version ? h("b", {}, v.version) : nodeLink(v.nodeId, v.version),
        when(v.createdAt),
        badge(v.status),
        v.fingerprint,
      ]),
    ),
  ];
  if (a.kind === "dataset") out.push(...dataGate(a.dataGate));
  if (a.kind === "model")
    out.push(
      h(
        "p",
        {},
        "Registry: ",
        link(`#/model/${encodeURIComponent(a.name)}`, `model ${a.name}`),
        " (versions, blessing, pushes)",
      ),
    );
  out.push(h("h3", {}, "Written by"), listNodes(a.producers), h("h3", {}, "Read by"), listNodes(a.consumers));
  return out;
}

function listNodes(items, shown = 50) {
  if (!items.length) return h("p", { class: "muted" }, "none");
  const more =
    items.length > shown
      ? h("li", { class: "muted" }, `… and ${items.length - shown} more (see the graph)`)
      : "";
  return h(
    "ul",
    {},
    items.slice(0, shown).map((e) => h("li", {}, nodeLink(e.nodeId, `${e.kind} ${e.name}`), ` (${e.state})`)),
    more,
  );
}

function dataGate(gate) {
  if (!gate) return [h("h3", {}, "Data gate"), h("p", { class: "muted" }, "Never validated.")];
  const out = [
    h("h3", {}, "Data gate ", badge(gate.status)),
    h("p", { class: "muted" }, `decided ${when(gate.updatedAt)}`),
  ];
  if (gate.reasons.length) {
    out.push(
      h("h4", {}, "Anomalies"),
      table(
        ["feature", "kind", "severity", "message"],
        gate.reasons.map((r) => [r.feature || "(dataset)", r.kind, r.severity, r.message]),
        { class: "anomalies" },
      ),
    );
  }
  const stats = gate.statistics;
  if (stats) {
    out.push(
      h("h4", {}, `Statistics (${fmt(stats.num_examples)} examples)`),
      table(
        ["feature", "type", "missing", "mean / unique", "std / top values", "min", "median", "max"],
        stats.features.map((f) => [
          f.name,
          f.type,
          f.missing_ratio !== undefined ? `${(100 * f.missing_ratio).toFixed(1)} %` : "–",
          f.mean ?? f.unique,
          f.std_dev ?? (f.top_values || []).map((t) => `${t.value} (${fmt(t.count)})`).join(", "),
          f.min,
          f.median,
          f.max,
        ]),
        { class: "statistics" },
      ),
    );
  }
  return out;
}

async function executionDetail(id) {
  const { execution: e } = await gql(Q.EXECUTION, { id });
  if (!e) return [h("p", {}, `execution ${id} does not exist (in this project).`)];
  const ends = (edges) =>
    edges.length
      ? h(
          "ul",
          {},
          edges.map((x) =>
            h(
              "li",
              {},
              nodeLink(x.artifact.nodeId, `${x.artifact.kind} ${x.artifact.name}:${x.artifact.version}`),
              x.role ? ` as ${x.role}` : "",
            ),
          ),
        )
      : h("p", { class: "muted" }, "none");
  return [
    h("h2", {}, e.name, " ", h("small", {}, e.kind)),
    h(
      "p",
      { class: "muted" },
      `${e.state} · ${when(e.startedAt)} → ${when(e.endedAt)}`,
      e.codeVersion ? ` · code ${e.codeVersion}` : "",
    ),
    e.kind === "run"
      ? h("p", {}, link(`#/run/${e.id}`, "Open the run: params, metric curves, comparison"))
      : "",
    h("h3", {}, "Params"),
    kv(e.params),
    h("h3", {}, "Properties"),
    kv(e.properties),
    h("h3", {}, "Inputs"),
    ends(e.inputs),
    h("h3", {}, "Outputs"),
    ends(e.outputs),
    e.contexts.length
      ? h("p", { class: "muted" }, e.contexts.map((c) => `${c.kind} ${c.name}`).join(" · "))
      : "",
  ];
}
