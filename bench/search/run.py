"""Run search at 100,000 and 1,000,000 runs: fill a fresh database (bench/search/fill.py),
start `mlledger serve` on it, time each search shape over HTTP (`limit=100`, p50/p95 of
`--rounds` requests after a warm-up), and print each shape's EXPLAIN ANALYZE.

    bench/search/run.sh [--sizes 100000,1000000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, event, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))
sys.path.insert(0, str(HERE))
from _support.servers import free_port, wait_healthy  # noqa: E402
from fill import fill  # noqa: E402

# (label, filter, order_by): the shapes, then more of the language.
SHAPES: list[tuple[str, str, str | None]] = [
    ("none, newest first", "", None),
    ("tag and metric filter", "tags.team = 'risk' and metrics.f1 > 0.5", None),
    (
        "two params, by metric",
        'params.optimizer = "adam" and params.depth = "3"',
        "metrics.auc desc",
    ),
    ("metric filter, by it", "metrics.auc > 0.9", "metrics.auc desc"),
    (
        "param and metric, by another",
        'params.lr = "0.01" and metrics.loss < 0.2',
        "metrics.auc desc",
    ),
    ("no filter, by metric", "", "metrics.recall desc"),
    ("param like", "params.optimizer like 'rms%'", None),
    ("or of tags", "tags.team = 'ops' or tags.team = 'core'", "metrics.f1 asc"),
    ("attribute", "attributes.state = 'failed' and metrics.precision >= 0.99", None),
]
PROJECT = "search-bench"


def fresh_database(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def prepare(url: str, runs: int) -> None:
    """Migrate, create the project and experiment through the API's own code, fill in bulk."""
    from mlledger.store.database import Database, create_db_engine
    from mlledger.store.metadata import contexts, projects
    from mlledger.store.metadata.contexts import NewContext

    env = {**os.environ, "MLLEDGER_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "mlledger.client", "db", "upgrade"], env=env, check=True)
    db = Database(create_db_engine(url))
    with db.write() as session:
        project = projects.get_or_create_project(session, PROJECT)
        experiment = contexts.create(
            session, project.id, NewContext(kind="experiment", name="bench")
        )
        project_id, experiment_id = project.id, experiment.id
    started = time.perf_counter()
    with db.engine.begin() as conn:
        fill(conn, project_id, experiment_id, runs, seed=0.42)
    print(f"filled {runs:,} runs in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    db.dispose()


def explain(url: str, shape: tuple[str, str, str | None]) -> str:
    """EXPLAIN ANALYZE of the statement the store sends for this shape."""
    from mlledger.store.database import Database, create_db_engine
    from mlledger.store.metadata import projects
    from mlledger.store.tracking import runs

    db = Database(create_db_engine(url))
    seen: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM execution" in statement and "LIMIT" in statement:
            seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    with db.read() as session:
        project_id = projects.get_project(session, PROJECT).id
        runs.search(session, project_id, experiments=["bench"], filter=shape[1], order_by=shape[2])
    event.remove(db.engine, "before_cursor_execute", capture)
    statement, params = seen[-1]
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS off, TIMING off) " + statement, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
    db.dispose()
    return plan


def measure(url: str, rounds: int) -> list[dict[str, Any]]:
    port = free_port()
    env = {**os.environ, "MLLEDGER_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "mlledger.client", "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        # Feast loads in the background after start-up (GIL-bound for a few seconds): measure
        # search after it, not beside it.
        deadline = time.monotonic() + 120
        while httpx.get(f"{base}/api/v1/health").json()["features"] != "ready":
            if time.monotonic() > deadline:
                raise SystemExit("the feature store did not finish loading")
            time.sleep(0.2)
        out = []
        with httpx.Client(base_url=base, headers={"X-Mlledger-Project": PROJECT}, timeout=120) as c:
            for label, filter_, order in SHAPES:
                params: dict[str, Any] = {"experiment": "bench", "limit": 100}
                if filter_:
                    params["filter"] = filter_
                if order:
                    params["order_by"] = order
                c.get("/api/v1/runs", params=params).raise_for_status()  # warm-up
                times = []
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    r = c.get("/api/v1/runs", params=params)
                    times.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                times.sort()
                out.append(
                    {
                        "shape": label,
                        "filter": filter_,
                        "order_by": order,
                        "found": len(r.json()["items"]),
                        "p50_ms": statistics.median(times),
                        "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
                    }
                )
        return out
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--admin-url", required=True)
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--explain", action="store_true", help="print each shape's plan")
    p.add_argument(
        "--reuse", action="store_true", help="measure the databases a previous run filled"
    )
    a = p.parse_args()
    results: dict[int, list[dict[str, Any]]] = {}
    for size in [int(s) for s in a.sizes.split(",")]:
        name = f"mlledger_search_{size}"
        if a.reuse:
            url = a.admin_url.rsplit("/", 1)[0] + f"/{name}"
        else:
            url = fresh_database(a.admin_url, name)
            prepare(url, size)
        results[size] = measure(url, a.rounds)
        if a.explain:
            for shape in SHAPES:
                print(f"\n### {shape[0]} at {size:,} runs\n{explain(url, shape)}")
    print(json.dumps(results, indent=2))
    sizes = sorted(results)
    print("\n| shape | filter / order | " + " | ".join(f"{s:,} p50 / p95 ms" for s in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for i, (label, filter_, order) in enumerate(SHAPES):
        cells = [f"{results[s][i]['p50_ms']:.0f} / {results[s][i]['p95_ms']:.0f}" for s in sizes]
        what = f"`{filter_ or '-'}`" + (f", by `{order}`" if order else "")
        print(f"| {label} | {what} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
