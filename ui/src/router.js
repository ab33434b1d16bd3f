// Hash routes: every view and node has a URL (#/graph/artifact:12?depth=3, #/run/42, ...).
let rerender = () => {};
export function onRender(fn) {
  rerender = fn;
}

export function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [view = "", ...rest] = path.split("/");
  return { view, arg: decodeURIComponent(rest.join("/")), params: new URLSearchParams(query) };
}

export function go(view, arg = "", params = {}) {
  const q = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""),
  );
  const hash = `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ""}${q.toString() ? `?${q}` : ""}`;
  if (location.hash !== hash) location.hash = hash;
  else rerender();
}

export function replaceParams(params) {
  const { view, arg, params: current } = parseRoute();
  for (const [k, v] of Object.entries(params))
    v === null || v === undefined ? current.delete(k) : current.set(k, v);
  const q = current.toString();
  history.replaceState(null, "", `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ""}${q ? `?${q}` : ""}`);
}
