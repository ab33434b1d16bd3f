"""MLflow's side of the search benchmark, run in MLflow's own environment:

    python mlflow_side.py URL EXPERIMENT_ID SHAPES_JSON --rounds N --budget SECONDS

Times `MlflowClient.search_runs(max_results=100)` against `mlflow server` for each shape (a
warm-up, then up to N rounds), and gives up on a shape once its requests have taken `budget`
seconds (the result says so). A shape MLflow's grammar cannot state (it has no `or`) is
skipped. Prints one JSON object: per shape, p50/p95 ms, rounds done, the names of the first page.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from typing import Any


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("experiment_id")
    p.add_argument("shapes")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--budget", type=float, default=120.0)
    a = p.parse_args()

    from mlflow.tracking import MlflowClient

    client = MlflowClient(a.url)
    out: dict[str, Any] = {}
    for shape in json.loads(a.shapes):
        label, flt, order, depth = (
            shape["label"],
            shape["mlflow_filter"],
            shape["order"],
            shape["depth"],
        )
        if flt is None:
            out[label] = {"skipped": "not expressible in MLflow's search grammar (no `or`)"}
            continue
        token = base64.b64encode(json.dumps({"offset": depth}).encode()).decode() if depth else None

        spent = 0.0
        times: list[float] = []
        first: list[str] = []
        for i in range(a.rounds + 1):
            t0 = time.perf_counter()
            page = client.search_runs(
                [a.experiment_id],
                filter_string=flt,
                max_results=100,
                order_by=[order] if order else None,
                page_token=token,
            )
            took = time.perf_counter() - t0
            spent += took
            if i == 0:
                first = [r.info.run_name for r in page]
            else:
                times.append(took * 1000)
            if spent > a.budget:
                break
        times.sort()
        out[label] = {
            "rounds": len(times),
            "gave_up": len(times) < a.rounds,
            "first_ms": None if times else spent * 1000,
            "p50_ms": statistics.median(times) if times else None,
            "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))] if times else None,
            "names": first,
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
