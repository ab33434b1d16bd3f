"""One system's side of the tracking benchmark, run in that system's own environment.

    python side.py mlledger|mlflow URL [--calls N] [--durable N] [--history N]

Prints one JSON object. The same workload for both: (a) the per-call cost of logging a metric
in a training loop, (b) how fast points become durable on the server, (c) reading back the
history of one metric with `--history` points.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    s = sorted(samples_ns)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))] / 1000  # noqa: E731
    return {"p50_us": pick(0.50), "p95_us": pick(0.95), "p99_us": pick(0.99), "n": len(s)}


def timed_calls(log, calls: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    samples = []
    clock = time.perf_counter_ns
    for step in range(calls):
        t0 = clock()
        log(step)
        samples.append(clock() - t0)
    return percentiles(samples)


def mlledger_side(url: str, calls: int, durable: int, history: int, reads: int) -> dict:
    import mlledger

    client = mlledger.Client(url, project="bench", spool_dir="/tmp/mlledger-bench-spool")
    out: dict = {"system": "mlledger"}
    with client.start_run("bench", capture_environment=False) as run:
        out["log_metric"] = timed_calls(lambda s: run.log_metric("a", 0.5, step=s), calls)
        run.flush()

        t0 = time.perf_counter()
        for step in range(durable):
            run.log_metric("durable", 0.5, step=step)
        run.flush()  # returns once the server acknowledged every point
        elapsed = time.perf_counter() - t0
        out["durable"] = {"points": durable, "seconds": elapsed, "points_per_s": durable / elapsed}

        for step in range(history):
            run.log_metric("hist", step * 0.001, step=step)
        run.flush()
        read = []
        for _ in range(reads):
            t0 = time.perf_counter()
            h = client.metric_history(run.uuid, "hist", max_points=history)
            read.append(time.perf_counter() - t0)
            assert len(h.values) == history, len(h.values)
        out["history"] = {
            "points": history,
            "p50_ms": statistics.median(read) * 1000,
            "max_ms": max(read) * 1000,
        }
    client.close()
    return out


def mlflow_side(
    url: str, calls: int, durable: int, history: int, reads: int, batch_points: int
) -> dict:
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(url)
    mlflow.set_experiment("bench")
    client = MlflowClient(url)
    out: dict = {"system": "mlflow " + mlflow.__version__}
    with mlflow.start_run() as active:
        run_id = active.info.run_id
        out["log_metric"] = timed_calls(
            lambda s: mlflow.log_metric("a", 0.5, step=s, synchronous=False), calls
        )
        mlflow.flush_async_logging()

        t0 = time.perf_counter()
        for step in range(durable):
            mlflow.log_metric("durable", 0.5, step=step, synchronous=False)
        mlflow.flush_async_logging()
        elapsed = time.perf_counter() - t0
        out["durable"] = {"points": durable, "seconds": elapsed, "points_per_s": durable / elapsed}

        t0 = time.perf_counter()
        now = int(time.time() * 1000)
        for start in range(0, batch_points, 1000):
            client.log_batch(
                run_id,
                metrics=[
                    Metric("batch", 0.5, now, s)
                    for s in range(start, min(batch_points, start + 1000))
                ],
            )
        elapsed = time.perf_counter() - t0
        out["durable_log_batch"] = {
            "points": batch_points,
            "seconds": elapsed,
            "points_per_s": batch_points / elapsed,
        }

        for start in range(0, history, 1000):
            client.log_batch(
                run_id,
                metrics=[
                    Metric("hist", s * 0.001, now, s)
                    for s in range(start, min(history, start + 1000))
                ],
            )
        read = []
        for _ in range(reads):
            t0 = time.perf_counter()
            h = client.get_metric_history(run_id, "hist")
            read.append(time.perf_counter() - t0)
            assert len(h) == history, len(h)
        out["history"] = {
            "points": history,
            "p50_ms": statistics.median(read) * 1000,
            "max_ms": max(read) * 1000,
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("system", choices=["mlledger", "mlflow"])
    p.add_argument("url")
    p.add_argument("--calls", type=int, default=100_000)
    p.add_argument("--durable", type=int, default=500_000)
    p.add_argument("--history", type=int, default=100_000)
    p.add_argument("--reads", type=int, default=5)
    p.add_argument("--batch-points", type=int, default=50_000)
    a = p.parse_args()
    if a.system == "mlledger":
        result = mlledger_side(a.url, a.calls, a.durable, a.history, a.reads)
    else:
        result = mlflow_side(a.url, a.calls, a.durable, a.history, a.reads, a.batch_points)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
