"""Training code's path, against a real server process: `with client.start_run(...)`."""

from __future__ import annotations

import math
import time
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlledger


def write_parquet(path: Path, rows: int) -> Path:
    pq.write_table(pa.table({"x": list(range(rows)), "y": [i % 2 for i in range(rows)]}), path)
    return path


@pytest.fixture
def client(server, project: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    c = mlledger.Client(server.url, project=project, spool_dir=tmp_path / "spool")
    yield c
    c.close()


def test_a_training_script_end_to_end(
    client: mlledger.Client, api: httpx.Client, tmp_path: Path
) -> None:
    data = write_parquet(tmp_path / "train.parquet", 100)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"\x00" * 64)
    (tmp_path / "confusion.png").write_bytes(b"png")
    with client.start_run(experiment="churn", name="lr-0.1", params={"lr": 0.1}) as run:
        train = run.use_dataset(data, name="churn-train")
        for step in range(50):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_metrics({"auc": 0.91, "logloss": 0.3})
        run.log_artifact(tmp_path / "confusion.png", name="reports/confusion.png")
        model = run.log_model("churn-model", path=tmp_path / "model", metrics={"auc": 0.91})
    assert train.properties["num_rows"] == 100
    assert train.properties["schema"] == {"x": "int64", "y": "int64"}
    assert train.fingerprint.startswith("sha256:") and train.id is not None
    assert model.version == 1
    assert model.artifact.version == 1 and model.artifact.id is not None

    body = api.get(f"/runs/{run.uuid}").json()
    assert body["state"] == "complete" and body["ended_at"]
    assert body["params"] == {"lr": "0.1"}
    env = body["environment"]
    assert env["python"] and env["host"] and env["packages_count"] > 10
    assert body["code_version"] is None or len(body["code_version"]) >= 40
    latest = {m["key"]: m["value"] for m in body["metrics"]}
    assert latest == {"loss": 1.0 / 50, "auc": 0.91, "logloss": 0.3}
    history = api.get(f"/runs/{run.uuid}/metrics/loss").json()
    assert history["steps"] == list(range(50))

    execution = api.get(f"/executions/{body['id']}").json()
    inputs = {e["artifact"]["name"]: e for e in execution["inputs"]}
    assert set(inputs) == {"churn-train", "python-environment"}
    assert inputs["python-environment"]["role"] == "environment"
    assert len(inputs["python-environment"]["artifact"]["properties"]["packages"]) > 10
    assert {e["artifact"]["name"] for e in execution["outputs"]} == {
        "reports/confusion.png",
        "churn-model",
    }
    # The model version's lineage reaches the training data.
    version = api.get("/models/churn-model/versions/1").json()
    up = api.get(
        f"/lineage/artifact/{version['artifact_id']}", params={"direction": "upstream"}
    ).json()
    assert "churn-train" in {n.get("name") for n in up["nodes"]}

    # The same data in another run is the same artifact version.
    with client.start_run(experiment="churn", capture_environment=False) as again:
        same = again.use_dataset(data, name="churn-train")
    assert (same.id, same.version) == (train.id, train.version)


def test_an_exception_marks_the_run_failed_and_propagates(
    client: mlledger.Client, api: httpx.Client
) -> None:
    with (
        pytest.raises(ZeroDivisionError),
        client.start_run("churn", capture_environment=False) as run,
    ):
        run.log_metric("loss", 0.5)
        1 / 0  # noqa: B018
    body = api.get(f"/runs/{run.uuid}").json()
    assert body["state"] == "failed"
    assert body["metrics"][0]["value"] == 0.5


def test_misuse_raises_at_the_call(client: mlledger.Client, tmp_path: Path) -> None:
    with client.start_run("churn", params={"lr": 0.1}, capture_environment=False) as run:
        with pytest.raises(TypeError, match="not a number"):
            run.log_metric("loss", "0.5")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not a number"):
            run.log_metric("loss", True)
        with pytest.raises(ValueError, match="key"):
            run.log_metric("loss;drop", 1.0)
        with pytest.raises(TypeError, match="step"):
            run.log_metric("loss", 1.0, step=1.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="finite"):
            run.log_model("m", path=tmp_path, metrics={"auc": math.nan})
        with pytest.raises(TypeError, match="param"):
            run.log_params({"obj": object()})
        with pytest.raises(mlledger.ApiError) as refused:
            run.log_params({"lr": 0.2})
        assert refused.value.status == 409
        with pytest.raises(FileNotFoundError):
            run.use_dataset(tmp_path / "missing.parquet")
        run.log_metric("loss", math.nan)  # a diverging loss is information, not misuse
    with pytest.raises(ValueError, match="param key"):
        client.start_run("churn", params={"bad key!": 1}, capture_environment=False)


def test_log_metric_costs_microseconds(client: mlledger.Client) -> None:
    """Not a timing assertion: the call must not block on the network (bench/ measures it)."""
    with client.start_run("churn", capture_environment=False) as run:
        start = time.perf_counter()
        for i in range(20_000):
            run.log_metric("loss", 0.1, step=i)
        elapsed = time.perf_counter() - start
        assert run.flush(timeout=60)
    # 20k network round trips would take seconds; buffering takes milliseconds.
    assert elapsed < 2.0


def test_metric_history_packed_reads_as_the_json_answer(
    client: mlledger.Client, api: httpx.Client
) -> None:
    """The client asks for packed columns; what it returns is what the JSON answer says,
    non-finite values, downsampled buckets and all."""
    values = [0.5, math.nan, math.inf, -math.inf, 1e-300, -2.5] * 500
    with client.start_run(experiment="packed", capture_environment=False) as run:
        for step, value in enumerate(values):
            run.log_metric("odd", value, step=step * 3 - 1000)
    for max_points in (100_000, 7):
        packed = client.metric_history(run.uuid, "odd", max_points=max_points)
        plain = mlledger.MetricHistory.of(
            api.get(f"/runs/{run.uuid}/metrics/odd", params={"max_points": max_points}).json()
        )
        assert packed.downsampled == (max_points == 7) == plain.downsampled
        assert packed.total == plain.total == len(values)
        assert packed.steps == plain.steps and packed.timestamps == plain.timestamps
        for a, b in (
            (packed.values, plain.values),
            (packed.mins or [], plain.mins or []),
            (packed.maxs or [], plain.maxs or []),
        ):
            assert len(a) == len(b) and all(
                x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True)
            )
    assert client.metric_history(run.uuid, "never", max_points=10).total == 0
