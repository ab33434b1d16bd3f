// Search results and the start page.
import { gql } from "../api.js";
import { h, link, table, when } from "../dom.js";
import * as Q from "../queries.js";

function hitHref(hit) {
  if (hit.kind === "registered_model") return `#/model/${encodeURIComponent(hit.name)}`;
  if (hit.kind === "run") return `#/run/${hit.nodeId.split(":")[1]}`;
  return `#/graph/${encodeURIComponent(hit.nodeId)}`;
}

export async function search(el, _arg, params, live) {
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
      data.search.map((hit) => [
        link(hitHref(hit), hit.name),
        hit.kind.replace("_", " "),
        hit.version,
        hit.detail,
      ]),
      { class: "results" },
    ),
  );
}

export async function home(el, _arg, _params, live) {
  const data = await gql(Q.HOME);
  if (!live()) return;
  el.append(
    h("h1", {}, "Lineage explorer"),
    h("p", { class: "muted" }, "Search by name above, or start from a model or a run."),
    h(
      "section",
      {},
      h("h2", {}, "Models"),
      data.models.nodes.length
        ? table(
            ["model", "latest", "aliases", "updated"],
            data.models.nodes.map((m) => [
              link(`#/model/${encodeURIComponent(m.name)}`, m.name),
              m.latestVersion,
              Object.entries(m.aliases)
                .map(([a, v]) => `${a} → v${v}`)
                .join(", "),
              when(m.updatedAt),
            ]),
          )
        : h("p", { class: "muted" }, "No registered models yet."),
    ),
    h(
      "section",
      {},
      h("h2", {}, "Recent runs"),
      data.runs.nodes.length
        ? table(
            ["run", "experiment", "state", "started"],
            data.runs.nodes.map((r) => [
              link(`#/run/${r.id}`, r.name || r.uuid),
              r.experiment,
              r.state,
              when(r.startedAt),
            ]),
          )
        : h("p", { class: "muted" }, "No runs yet."),
    ),
  );
}
