// A model's page: versions, blessing, training data, pushes, gate.
import { gql } from "../api.js";
import { badge, fmt, h, link, nodeLink, table, when } from "../dom.js";
import * as Q from "../queries.js";

export async function modelView(el, name, params, live) {
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
    h(
      "p",
      { class: "muted" },
      Object.entries(model.aliases)
        .map(([a, v]) => `${a} → v${v}`)
        .join(" · ") || "no aliases",
    ),
    h("h2", {}, "Versions"),
    table(
      ["version", "aliases", "blessing", "created", "metrics", ""],
      model.versions.map((v) => [
        link(`#/model/${encodeURIComponent(name)}?version=${v.version}`, `v${v.version}`),
        v.aliases.join(", "),
        badge(v.artifact?.status),
        when(v.createdAt),
        Object.entries(v.metrics)
          .map(([k, x]) => `${k} ${fmt(x)}`)
          .join(", "),
        v.artifact ? nodeLink(v.artifact.nodeId, "lineage") : "",
      ]),
      { class: "versions" },
    ),
  );
  if (version) el.append(...blessing(model, version), ...trainingData(version));
  el.append(
    h("h2", {}, "Push history"),
    model.pushes.length
      ? table(
          ["when", "action", "alias", "version", "from", "outcome", "reasons", "by"],
          model.pushes.map((p) => [
            when(p.createdAt),
            p.action,
            p.alias,
            p.version ? `v${p.version}` : "–",
            p.previousVersion ? `v${p.previousVersion}` : "–",
            badge(p.outcome === "pushed" ? "pushed" : p.outcome === "refused" ? "refused" : ""),
            (p.reasons || []).map((r) => r.message).join("; "),
            p.actor,
          ]),
          { class: "pushes" },
        )
      : h("p", { class: "muted" }, "Never pushed."),
  );
  if (model.gate) {
    el.append(
      h("h2", {}, `Gate (revision ${model.gate.revision})`),
      table(
        ["metric", "value threshold", "change threshold"],
        model.gate.config.thresholds.map((t) => [
          t.metric,
          t.value_threshold ? JSON.stringify(t.value_threshold) : "–",
          t.change_threshold ? JSON.stringify(t.change_threshold) : "–",
        ]),
      ),
      model.gate.config.slicing_specs?.length
        ? h(
            "p",
            { class: "muted" },
            `slices: ${model.gate.config.slicing_specs.map((s) => JSON.stringify(s)).join(", ")}`,
          )
        : "",
    );
  }
}

function blessing(model, v) {
  const b = v.blessing;
  const out = [
    h("h2", {}, `Blessing of v${v.version} `, b ? badge(b.blessed ? "blessed" : "not_blessed") : ""),
  ];
  if (!b)
    return [
      ...out,
      h("p", { class: "muted" }, model.gate ? "Not evaluated yet." : "This model has no gate."),
    ];
  out.push(
    h(
      "p",
      { class: "muted" },
      `evaluated ${when(b.createdAt)} against ${b.baselineVersion ? `v${b.baselineVersion}` : "no incumbent"}, gate revision ${b.gateRevision}`,
    ),
  );
  out.push(
    table(
      ["slice", "metric", "value", "incumbent", "bound", "verdict", ""],
      b.checks.map((c) => [
        c.slice,
        c.metric,
        c.value,
        c.baseline,
        c.bound,
        h(
          "span",
          { class: c.skipped ? "skip" : c.passed ? "pass" : "fail" },
          c.skipped ? "skipped" : c.passed ? "pass" : "FAIL",
        ),
        c.message,
      ]),
      { class: "thresholds" },
    ),
  );
  return out;
}

// What a push goes by besides the blessing: every dataset the version was trained on passed
// its data gate. Validations sit downstream of the datasets, so the model's own lineage
// never shows them; here they are, from the model.
function trainingData(v) {
  const out = [h("h2", {}, `Training data of v${v.version}`)];
  if (!v.trainingData.length)
    return [
      ...out,
      h("p", { class: "muted" }, "No training datasets in its lineage: no data gate vouches for it."),
    ];
  out.push(
    table(
      ["dataset", "data gate", "reasons", "validated"],
      v.trainingData.map((d) => [
        nodeLink(d.artifact.nodeId, `${d.artifact.name}:${d.artifact.version}`),
        badge(d.status === "none" ? "never validated" : d.status),
        (d.dataGate?.reasons || [])
          .slice(0, 3)
          .map((r) => `${r.feature || "(dataset)"}: ${r.message}`)
          .join("; "),
        d.dataGate ? when(d.dataGate.updatedAt) : "–",
      ]),
      { class: "training-data" },
    ),
  );
  return out;
}
