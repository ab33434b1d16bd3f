// The lineage graph: Cytoscape.js with the dagre layered layout (Cytoscape's breadth-first one
// above 1,000 nodes), left to right (data → runs → models → pushes). Clicking a node selects it and expands its neighbours; collapsing removes
// what an expansion added; a path between two nodes is found with Cytoscape's A*.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";

cytoscape.use(dagre);

const KIND_STYLE = {
  dataset: { shape: "round-rectangle", color: "#dbeafe" },
  feature_view: { shape: "round-rectangle", color: "#e0e7ff" },
  model: { shape: "hexagon", color: "#fef3c7" },
  schema: { shape: "tag", color: "#f1f5f9" },
  statistics: { shape: "tag", color: "#f1f5f9" },
  anomalies: { shape: "tag", color: "#fee2e2" },
  evaluation: { shape: "tag", color: "#fef9c3" },
  run: { shape: "ellipse", color: "#dcfce7" },
  validation: { shape: "diamond", color: "#f3e8ff" },
  evaluation_exec: { shape: "diamond", color: "#fef9c3" },
  materialization: { shape: "ellipse", color: "#e0f2fe" },
  push: { shape: "star", color: "#fde68a" },
};

export const STATUS_COLOUR = {
  passed: "#16a34a",
  failed: "#dc2626",
  error: "#b91c1c",
  pending: "#94a3b8",
  blessed: "#2563eb",
  not_blessed: "#ea580c",
  refused: "#7f1d1d",
  pushed: "#ca8a04",
};

function style(kind, type) {
  if (type === "execution" && kind === "evaluation") return KIND_STYLE.evaluation_exec;
  return (
    KIND_STYLE[kind] || { shape: type === "execution" ? "ellipse" : "round-rectangle", color: "#f8fafc" }
  );
}

// Labels are cut here, once, rather than measured and wrapped by the renderer per frame, to
// what fits between two ranks of the layout.
const short = (text) => (text.length > 22 ? `${text.slice(0, 21)}…` : text);
// TFX names executions by their component's module path (tfx.components.CsvExampleGen): its
// last part says which component it was; the details show the whole name.
const lastPart = (name) => (/^\w+(\.\w+){2,}$/.test(name) ? name.slice(name.lastIndexOf(".") + 1) : name);

export function toElements(lineage) {
  const nodes = lineage.nodes.map((n) => {
    const s = style(n.kind, n.type);
    return {
      group: "nodes",
      data: {
        id: n.id,
        label: short(
          n.version ? `${n.name}:${n.version}` : n.type === "execution" ? lastPart(n.name) : n.name,
        ),
        full: n.version ? `${n.name}:${n.version}` : n.name,
        kind: n.kind,
        type: n.type,
        status: n.status || "",
        shape: s.shape,
        fill: s.color,
        border: STATUS_COLOUR[n.status] || "#64748b",
      },
    };
  });
  const edges = lineage.edges.map((e) => ({
    group: "edges",
    data: { id: `${e.source}->${e.target}`, source: e.source, target: e.target, type: e.type },
  }));
  return [...nodes, ...edges];
}

export class Graph {
  constructor(container, { onSelect, onExpand }) {
    this.expanded = new Map(); // node id -> ids it added
    this.onExpand = onExpand;
    this.cy = cytoscape({
      container,
      wheelSensitivity: 0.3,
      minZoom: 0.05,
      maxZoom: 3,
      // Large neighbourhoods stay responsive: a cached texture while panning/zooming, and
      // labels only where they are big enough to read.
      textureOnViewport: true,
      hideEdgesOnViewport: true,
      pixelRatio: 1,
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            shape: "data(shape)",
            "background-color": "data(fill)",
            "border-color": "data(border)",
            "border-width": 2,
            "font-size": 11,
            "text-valign": "bottom",
            "text-margin-y": 4,
            width: 34,
            height: 34,
            "min-zoomed-font-size": 7,
          },
        },
        { selector: 'node[status != ""]', style: { "border-width": 4 } },
        { selector: 'node[status = "refused"]', style: { "border-style": "dashed" } },
        {
          selector: "node.root",
          style: {
            "font-weight": "bold",
            "underlay-color": "#fbbf24",
            "underlay-opacity": 0.35,
            "underlay-padding": 6,
          },
        },
        { selector: "node:selected", style: { "overlay-color": "#2563eb", "overlay-opacity": 0.2 } },
        {
          selector: "edge",
          style: {
            width: 1.5,
            "line-color": "#94a3b8",
            "target-arrow-color": "#94a3b8",
            "target-arrow-shape": "triangle",
            "curve-style": "straight", // lineage has no parallel edges; cheapest to draw
          },
        },
        {
          selector: "edge.path",
          style: { "line-color": "#f59e0b", "target-arrow-color": "#f59e0b", width: 4, "z-index": 10 },
        },
        { selector: "node.path", style: { "border-color": "#f59e0b", "border-width": 5 } },
        { selector: ".faded", style: { opacity: 0.25 } },
      ],
    });
    this.cy.on("tap", "node", (evt) => onSelect(evt.target.id(), evt.originalEvent?.shiftKey));
  }

  load(lineage) {
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.expanded.clear();
      this.cy.add(toElements(lineage));
      this.cy.$id(lineage.root).addClass("root");
    });
    this.layout();
  }

  /** Add a neighbourhood around `id`; remembers what was new so `collapse` can take it back. */
  expand(id, lineage) {
    const before = new Set(this.cy.nodes().map((n) => n.id()));
    const fresh = toElements(lineage).filter((e) => !this.cy.getElementById(e.data.id).length);
    this.cy.batch(() => this.cy.add(fresh));
    const added = fresh.filter((e) => e.group === "nodes" && !before.has(e.data.id)).map((e) => e.data.id);
    this.expanded.set(id, [...(this.expanded.get(id) || []), ...added]);
    if (fresh.length) this.layout();
    return added.length;
  }

  collapse(id) {
    const added = this.expanded.get(id) || [];
    for (const child of added) this.collapse(child);
    added.forEach((n) => this.cy.$id(n).remove());
    this.expanded.delete(id);
    this.layout();
    return added.length;
  }

  isExpanded(id) {
    return this.expanded.has(id);
  }

  layout() {
    const n = this.cy.nodes().length;
    if (n > 1000) {
      // dagre's crossing minimisation takes seconds on thousands of nodes; Cytoscape's own
      // layered breadth-first layout takes a third of that. It lays out top to bottom, so
      // the layers are turned to run left to right.
      this.cy
        .layout({
          name: "breadthfirst",
          directed: true,
          roots: this.cy.nodes().roots(),
          avoidOverlap: false,
          animate: false,
          fit: false,
        })
        .run();
      this.cy.nodes().positions((node) => ({ x: node.position("y"), y: node.position("x") }));
      this.cy.fit(undefined, 24);
      return;
    }
    // dagre's default ranker (network simplex) grows much faster than linear; above a few
    // hundred nodes the longest-path ranker gives the same left-to-right layers in time.
    const ranker = n > 300 ? "longest-path" : "network-simplex";
    this.cy
      .layout({
        name: "dagre",
        rankDir: "LR",
        ranker,
        nodeSep: 18,
        rankSep: 70,
        animate: false,
        fit: true,
        padding: 24,
      })
      .run();
  }

  fit() {
    this.cy.fit(undefined, 24);
  }

  select(id) {
    this.cy.$(":selected").unselect();
    const node = this.cy.$id(id);
    node.select();
    return node.length > 0;
  }

  /** Highlight the shortest path between two nodes, ignoring edge direction. */
  highlightPath(from, to) {
    this.clearPath();
    const result = this.cy
      .elements()
      .aStar({ root: this.cy.$id(from), goal: this.cy.$id(to), directed: false });
    if (!result.found) return 0;
    this.cy.elements().addClass("faded");
    result.path.removeClass("faded").addClass("path");
    return result.path.nodes().length;
  }

  clearPath() {
    this.cy.elements().removeClass("path faded");
  }

  get size() {
    return this.cy.nodes().length;
  }
}
