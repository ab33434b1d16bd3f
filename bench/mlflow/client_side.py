"""One MLflow client script, timed against whatever MLFLOW_TRACKING_URI names (`mlflow server`
or mlledger's MLflow door): run in MLflow's own venv by bench/mlflow/run.py. Prints one JSON
line of results.

    python client_side.py PART [options]   PART: tracking | search | artifacts
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric


def _pct(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": statistics.median(times),
        "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
    }


def tracking(a: argparse.Namespace) -> dict[str, object]:
    client = MlflowClient()
    mlflow.set_experiment(f"bench-{os.getpid()}")
    out: dict[str, object] = {}
    # Async log_metric: the fluent call training code makes, until every point is durable.
    with mlflow.start_run() as run:
        started = time.perf_counter()
        for i in range(a.async_points):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i, synchronous=False)
        mlflow.flush_async_logging()
        took = time.perf_counter() - started
    stored = len(client.get_metric_history(run.info.run_id, "loss"))
    out["async_log_metric"] = {
        "points": a.async_points,
        "stored": stored,
        "points_per_s": stored / took,
    }
    # log_batch of 1,000 points a call (MLflow's limit), synchronously.
    with mlflow.start_run() as run:
        now = int(time.time() * 1000)
        started = time.perf_counter()
        for b in range(a.history_points // 1000):
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("h", float(i), now, b * 1000 + i) for i in range(1000)],
            )
        took = time.perf_counter() - started
    out["log_batch"] = {"points": a.history_points, "points_per_s": a.history_points / took}
    # The history those batches wrote, read back whole.
    reads = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        got = client.get_metric_history(run.info.run_id, "h")
        reads.append((time.perf_counter() - t0) * 1000)
    out["history"] = {"points": len(got), **_pct(reads)}
    return out


SEARCHES = [
    ("none, newest first", "", None),
    ("metric filter, by it", "metrics.auc > 0.9", ["metrics.auc DESC"]),
    (
        "two params, by metric",
        "params.optimizer = 'adam' and params.depth = '3'",
        ["metrics.auc DESC"],
    ),
    ("attribute", "attributes.status = 'FAILED' and metrics.precision >= 0.99", None),
]


def search(a: argparse.Namespace) -> dict[str, object]:
    client = MlflowClient()
    experiment = client.get_experiment_by_name("bench").experiment_id
    out: dict[str, object] = {}
    for label, filter_, order in SEARCHES:
        kwargs = {"filter_string": filter_, "order_by": order, "max_results": 100}
        first = client.search_runs([experiment], **kwargs)  # warm-up
        times = []
        for _ in range(a.rounds):
            t0 = time.perf_counter()
            client.search_runs([experiment], **kwargs)
            times.append((time.perf_counter() - t0) * 1000)
        out[label] = {**_pct(times), "first": [r.info.run_name for r in first][:5]}
    return out


def artifacts(a: argparse.Namespace) -> dict[str, object]:
    mlflow.set_experiment(f"bench-art-{os.getpid()}")
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "model.bin")
    with open(path, "wb") as f:
        for _ in range(a.megabytes):
            f.write(os.urandom(1024 * 1024))
    with mlflow.start_run() as run:
        t0 = time.perf_counter()
        mlflow.log_artifact(path)
        up = time.perf_counter() - t0
    target = tempfile.mkdtemp()
    t0 = time.perf_counter()
    got = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=target)
    down = time.perf_counter() - t0
    size = os.path.getsize(os.path.join(got, "model.bin"))
    return {
        "megabytes": a.megabytes,
        "same_size": size == a.megabytes * 1024 * 1024,
        "upload_s": up,
        "download_s": down,
        "upload_mb_s": a.megabytes / up,
        "download_mb_s": a.megabytes / down,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("part", choices=["tracking", "search", "artifacts"])
    p.add_argument("--async-points", type=int, default=20_000)
    p.add_argument("--history-points", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--megabytes", type=int, default=200)
    a = p.parse_args()
    result = {"tracking": tracking, "search": search, "artifacts": artifacts}[a.part](a)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
