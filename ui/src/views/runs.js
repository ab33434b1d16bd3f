// A run's page (params, metrics, curves) and the comparison of runs.
import { gql } from "../api.js";
import { metricChart } from "../charts.js";
import { h, kv, link, nodeLink, table, when } from "../dom.js";
import * as Q from "../queries.js";
import { go } from "../router.js";

// Every run's curve of every key, one request per 20 runs: result[r][k] (null when absent).
async function histories(runs, keys) {
  if (!keys.length || !runs.length) return runs.map(() => []);
  const out = [];
  for (let start = 0; start < runs.length; start += Q.MAX_RUNS_PER_HISTORY) {
    const chunk = runs.slice(start, start + Q.MAX_RUNS_PER_HISTORY);
    const vars = Object.fromEntries([
      ...keys.map((k, i) => [`k${i}`, k]),
      ...chunk.map((r, i) => [`r${i}`, String(r.id)]),
    ]);
    const data = await gql(Q.histories(chunk.length, keys.length), vars);
    chunk.forEach((_, i) => out.push(keys.map((_k, j) => data[`r${i}`]?.[`h${j}`] ?? null)));
  }
  return out;
}

// Runs by id, 20 a request (the comparison's table): the ones that exist, in the given order.
async function runsByIds(ids) {
  const found = [];
  for (let start = 0; start < ids.length; start += Q.MAX_RUNS_PER_HISTORY) {
    const chunk = ids.slice(start, start + Q.MAX_RUNS_PER_HISTORY);
    const vars = Object.fromEntries(chunk.map((id, i) => [`r${i}`, String(id)]));
    const data = await gql(Q.runsByIds(chunk.length), vars);
    chunk.forEach((_, i) => data[`r${i}`] && found.push(data[`r${i}`]));
  }
  return found;
}

export async function runView(el, id, _params, live) {
  const { run } = await gql(Q.RUN, { id });
  if (!live()) return;
  if (!run) {
    el.append(h("p", {}, `No run ${id}.`));
    return;
  }
  const keys = run.metrics.map((m) => m.key).slice(0, 12);
  // The curves and the experiment's other runs (to compare with) need only the run: together.
  const [[series], { runs }] = await Promise.all([
    histories([run], keys),
    gql(Q.RUNS, { experiment: [run.experiment], first: 50 }),
  ]);
  if (!live()) return;
  const charts = h("div", { class: "charts" });
  const picked = new Set([String(run.id)]);
  const compare = h(
    "button",
    {
      type: "button",
      id: "compare-button",
      onclick: () => go("compare", "", { runs: [...picked].join(",") }),
    },
    "Compare selected",
  );
  el.append(
    h(
      "h1",
      {},
      run.name || run.uuid,
      " ",
      h("small", {}, run.killed ? "killed" : run.state, run.deletedAt ? " · deleted" : ""),
    ),
    h(
      "p",
      { class: "muted" },
      `experiment ${run.experiment} · ${run.uuid} · ${when(run.startedAt)} → ${when(run.endedAt)}`,
      run.codeVersion ? ` · code ${run.codeVersion}` : "",
      provenance(run),
      " · ",
      run.execution ? nodeLink(run.execution.nodeId, "lineage") : "",
    ),
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        {},
        h("h2", {}, "Params"),
        kv(run.params),
        h("h2", {}, "Tags"),
        kv(run.tags),
        h("h2", {}, "Latest metrics"),
        table(
          ["metric", "value", "step"],
          run.metrics.map((m) => [m.key, m.value, m.step]),
          { class: "metrics" },
        ),
      ),
      h("section", {}, h("h2", {}, "Metric curves"), charts),
    ),
    h(
      "section",
      {},
      h("h2", {}, `Runs of ${run.experiment}`),
      table(
        ["", "run", "state", "started", ...keys.slice(0, 4)],
        runs.nodes.map((r) => {
          const box = h("input", {
            type: "checkbox",
            "data-run": r.id,
            checked: picked.has(String(r.id)),
            onchange: (e) => (e.target.checked ? picked.add(String(r.id)) : picked.delete(String(r.id))),
          });
          const latest = Object.fromEntries(r.metrics.map((m) => [m.key, m.value]));
          return [
            box,
            link(`#/run/${r.id}`, r.name || r.uuid),
            r.state,
            when(r.startedAt),
            ...keys.slice(0, 4).map((k) => latest[k]),
          ];
        }),
        { class: "runs" },
      ),
      compare,
    ),
  );
  series.forEach(
    (s) =>
      s &&
      s.steps.length &&
      metricChart(charts, s.key, [{ label: run.name || run.uuid, steps: s.steps, values: s.values }]),
  );
  if (!series.length) charts.append(h("p", { class: "muted" }, "No metrics logged."));
}

export async function compareView(el, _arg, params, live) {
  const ids = (params.get("runs") || "").split(",").filter(Boolean);
  if (ids.length < 2) {
    el.append(h("p", {}, "Pick two or more runs to compare (from a run's page)."));
    return;
  }
  const runs = await runsByIds(ids);
  if (!live()) return;
  const label = (r) => r.name || r.uuid.slice(0, 8);
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
  const differs = (values) => new Set(values.map((v) => JSON.stringify(v))).size > 1;
  const paramRows = paramKeys.map((k) => [k, ...runs.map((r) => r.params[k])]);
  const metricRows = metricKeys.map((k) => [
    k,
    ...runs.map((r) => r.metrics.find((m) => m.key === k)?.value),
  ]);
  const mark = (tableEl, rows) => {
    [...tableEl.querySelectorAll("tbody tr")].forEach(
      (tr, i) => differs(rows[i].slice(1)) && tr.classList.add("differs"),
    );
    return tableEl;
  };
  const charts = h("div", { class: "charts overlay" });
  el.append(
    h("h1", {}, `Comparing ${runs.length} runs`),
    h("h2", {}, "Params"),
    mark(table(["param", ...runs.map(label)], paramRows, { class: "compare-params" }), paramRows),
    h("h2", {}, "Final metrics"),
    mark(table(["metric", ...runs.map(label)], metricRows, { class: "compare-metrics" }), metricRows),
    h("h2", {}, "Curves"),
    charts,
  );
  const keys = metricKeys.slice(0, 12);
  const all = await histories(runs, keys);
  if (!live()) return;
  keys.forEach((key, j) => {
    const series = runs
      .map((r, i) => all[i][j] && { label: label(r), steps: all[i][j].steps, values: all[i][j].values })
      .filter(Boolean);
    metricChart(charts, key, series);
  });
}

// Where a run came from: MLflow's client (through the compatibility API) or mlledger's own.
function provenance(run) {
  if (run.environment?.client !== "mlflow") return "";
  const source = run.tags?.["mlflow.source.name"];
  return ` · logged through MLflow's client${source ? ` (${source})` : ""}`;
}
