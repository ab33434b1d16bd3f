// Small DOM helpers every view uses.
import { STATUS_COLOUR } from "./graph.js";

export function h(tag, attrs = {}, ...children) {
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

export const fmt = (v) =>
  v === null || v === undefined
    ? "–"
    : typeof v === "number"
      ? Number.isInteger(v)
        ? v.toLocaleString("en")
        : Number(v.toPrecision(5)).toString()
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

export function table(headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headers.map((x) => h("th", {}, x)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          {},
          r.map((c) => h("td", {}, c instanceof Node ? c : fmt(c))),
        ),
      ),
    ),
  );
}

export function kv(obj) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return h("p", { class: "muted" }, "none");
  return table(
    ["key", "value"],
    entries.map(([k, v]) => [k, v]),
    { class: "kv" },
  );
}

export function badge(status) {
  if (!status) return "";
  return h(
    "span",
    { class: `badge status-${status}`, style: `border-color:${STATUS_COLOUR[status] || "#64748b"}` },
    status.replace("_", " "),
  );
}

export const link = (hash, text) => h("a", { href: hash }, text);
export const nodeLink = (nodeId, text) => link(`#/graph/${encodeURIComponent(nodeId)}`, text);
