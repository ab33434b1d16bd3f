"""The client's typed results mirror the server's response schemas field for field: a field
added to a REST schema and not to its result (or the other way) fails here, not in a user's
training job. And each result reads a real answer: non-finite metrics, nested results, `raw`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import mlledger
from mlledger.client import results

MIRRORS = {
    results.Artifact: "ArtifactOut",
    results.LatestMetric: "LatestMetricOut",
    results.RunRecord: "RunOut",
    results.MetricHistory: "MetricHistoryOut",
    results.RegisteredModel: "RegisteredModelOut",
    results.ModelVersion: "ModelVersionOut",
    results.Alias: "AliasOut",
    results.ModelGate: "ModelGateOut",
    results.Check: "Check",
    results.Dataset: "DatasetOut",
    results.Evaluation: "EvaluationOut",
    results.PushReason: "PushReason",
    results.ModelPush: "ModelPushOut",
    results.AnomalyReason: "AnomalyReason",
    results.TrainingDataset: "TrainingDatasetOut",
    results.ModelVerdict: "VerdictOut",
}


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from mlledger.service.app import create_app
    from mlledger.service.settings import Settings

    home = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings(database_url=f"sqlite:///{home / 'm.db'}", home=home))
    return dict(app.openapi()["components"]["schemas"])


@pytest.mark.parametrize("result", list(MIRRORS), ids=lambda c: c.__name__)
def test_a_result_has_exactly_its_schemas_fields(result: type, components: dict[str, Any]) -> None:
    schema = components[MIRRORS[result]]
    assert set(result.model_fields) == set(schema["properties"])  # type: ignore[attr-defined]
    # What the server always sends, the client requires (and nothing else).
    required = {n for n, f in result.model_fields.items() if f.is_required()}  # type: ignore[attr-defined]
    assert required <= set(schema.get("required", [])), required - set(schema["required"])


def test_every_result_is_exported() -> None:
    made = {c.__name__ for c in vars(results).values() if isinstance(c, type)}
    made &= {c.__name__ for c in MIRRORS}
    assert made == {c.__name__ for c in MIRRORS}
    assert made <= set(mlledger.__all__)


def test_results_read_a_real_server(server, project: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api = mlledger.Client(server.url, project=project, spool_dir=tmp_path / "spool")
    (tmp_path / "m.bin").write_bytes(b"m")
    with api.start_run("typed", capture_environment=False) as run:
        run.log_metric("loss", float("nan"), step=0)
        run.log_metric("loss", 0.5, step=1)
        run.log_metric("auc", float("inf"), step=0)
        model = run.log_model("typed-model", path=tmp_path / "m.bin")
    shown = api.get_run(run.uuid)
    assert isinstance(shown, mlledger.RunRecord) and shown.state == "complete"
    assert shown.metric("loss") == 0.5 and shown.metric("auc") == math.inf
    assert shown.metric("absent") is None
    assert shown.raw["uuid"] == run.uuid  # the answer as it came
    history = api.metric_history(run.uuid, "loss")
    assert history.steps == [0, 1] and math.isnan(history.values[0]) and history.values[1] == 0.5
    assert [r.uuid for r in api.search_runs(experiments=["typed"])] == [run.uuid]
    assert api.get_model("typed-model").latest_version == model.version
    version = api.model_version("typed-model", model.version)
    assert version.run_id == shown.id and version.aliases == []

    gate = api.set_model_gate(
        "typed-model", {"thresholds": [{"metric": "auc", "value_threshold": {"lower_bound": 0.9}}]}
    )
    assert gate.revision == 1 and gate.config["thresholds"][0]["metric"] == "auc"
    evaluation = api.evaluate_model("typed-model", model.version, {"auc": 0.8})
    assert evaluation.blessed is False and evaluation.checks[0].kind == "value"
    verdict = api.model_verdict("typed-model", model.version)
    assert verdict.status == "blocked"
    assert {r.kind for r in verdict.reasons} == {"threshold", "lineage"}
    threshold = next(r for r in verdict.reasons if r.kind == "threshold")
    assert threshold.metric == "auc" and threshold.dataset is None
    with pytest.raises(mlledger.GateBlocked) as refused:
        api.push_model("typed-model", model.version)
    assert {r["kind"] for r in refused.value.details["reasons"]} == {"threshold", "lineage"}
    assert "slice" not in next(  # a refusal's details carry only what applies to each reason
        r for r in refused.value.details["reasons"] if r["kind"] == "lineage"
    )
    api.close()


def test_a_newer_servers_extra_fields_are_ignored() -> None:
    answer = {"model": "m", "alias": "production", "version": 2, "previous_version": 1}
    alias = results.Alias.of({**answer, "moved_by": "ci"})  # a field this client never heard of
    assert alias.version == 2 and alias.raw["moved_by"] == "ci"
