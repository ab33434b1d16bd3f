"""Run search at 100,000 and 1,000,000 runs, beside MLflow: fill fresh databases with the same
runs (bench/search/fill.py) — mlledger on Postgres, mlledger on SQLite (100,000 only: the
embedded default), MLflow's tables on Postgres — start each server on its database, time each
search shape over HTTP (100 runs a page; p50/p95 of `--rounds` requests after a warm-up;
MLflow through its client, giving up on a shape after `--mlflow-budget` seconds), check that
both answer the same first page, and print each shape's EXPLAIN ANALYZE (`--explain`).

    bench/search/run.sh [--sizes 100000,1000000] [--rounds 30] [--explain] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, event, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))
sys.path.insert(0, str(HERE))
from _support.servers import free_port, wait_healthy  # noqa: E402
from fill import fill_mlflow, fill_mlledger  # noqa: E402

DEEP = 100_000  # rows before the page of the deep shapes


@dataclass(frozen=True)
class Shape:
    label: str
    filter: str
    mlflow_filter: str | None  # None: MLflow's grammar cannot say it
    order: str | None = None  # ours; MLflow's is the same with DESC/ASC upper-cased
    depth: int = 0

    @property
    def mlflow_order(self) -> str | None:
        if self.order is None:
            return None
        field, direction = self.order.split()
        return f"{field} {direction.upper()}"


# The shapes, then more of the language, then pages deep into the result.
SHAPES = [
    Shape("none, newest first", "", ""),
    Shape(
        "tag and metric filter",
        "tags.team = 'risk' and metrics.f1 > 0.5",
        "tags.team = 'risk' and metrics.f1 > 0.5",
    ),
    Shape(
        "two params, by metric",
        'params.optimizer = "adam" and params.depth = "3"',
        "params.optimizer = 'adam' and params.depth = '3'",
        "metrics.auc desc",
    ),
    Shape("metric filter, by it", "metrics.auc > 0.9", "metrics.auc > 0.9", "metrics.auc desc"),
    Shape(
        "param and metric, by another",
        'params.lr = "0.01" and metrics.loss < 0.2',
        "params.lr = '0.01' and metrics.loss < 0.2",
        "metrics.auc desc",
    ),
    Shape("no filter, by metric", "", "", "metrics.recall desc"),
    Shape("param like", "params.optimizer like 'rms%'", "params.optimizer LIKE 'rms%'"),
    Shape("or of tags", "tags.team = 'ops' or tags.team = 'core'", None, "metrics.f1 asc"),
    Shape(
        "attribute",
        "attributes.state = 'failed' and metrics.precision >= 0.99",
        "attributes.status = 'FAILED' and metrics.precision >= 0.99",
    ),
    Shape("newest first, 100,000 deep", "", "", None, DEEP),
    Shape("by metric, 100,000 deep", "", "", "metrics.auc desc", DEEP),
]
PROJECT = "search-bench"
MLFLOW_SIDE = HERE / "mlflow_side.py"


def fresh_database(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def migrate(url: str) -> None:
    env = {**os.environ, "MLLEDGER_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "mlledger.client", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )


def prepare(url: str, runs: int) -> None:
    """Migrate, create the project and experiment through the API's own code, fill in bulk."""
    from mlledger.store.database import Database, create_db_engine
    from mlledger.store.metadata import contexts, projects
    from mlledger.store.metadata.contexts import NewContext

    migrate(url)
    db = Database(create_db_engine(url))
    with db.write() as session:
        project = projects.get_or_create_project(session, PROJECT)
        experiment = contexts.create(
            session, project.id, NewContext(kind="experiment", name="bench")
        )
        project_id, experiment_id = project.id, experiment.id
    started = time.perf_counter()
    with db.engine.begin() as conn:
        fill_mlledger(conn, project_id, experiment_id, runs)
    took = time.perf_counter() - started
    print(f"mlledger: filled {runs:,} runs in {took:.1f} s ({url.split(':')[0]})", file=sys.stderr)
    db.dispose()
    vacuum(url)


def vacuum(url: str) -> None:
    """What autovacuum does to a table after a bulk load, done now: statistics, and the
    visibility map index-only scans need (SQLite: ANALYZE only)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()


def deep_cursor(url: str, shape: Shape) -> str | None:
    """The cursor a client paging through would hold `shape.depth` runs into the answer."""
    if not shape.depth:
        return None
    from mlledger.store.tracking import search_cursor

    engine = create_engine(url)
    with engine.connect() as conn:
        if shape.order is None:
            last = conn.execute(
                text("SELECT execution_id FROM run ORDER BY execution_id DESC LIMIT 1 OFFSET :d"),
                {"d": shape.depth - 1},
            ).scalar_one()
            position = search_cursor.After(None, last)
        else:
            key = shape.order.split()[0].removeprefix("metrics.")
            value, last = conn.execute(
                text(
                    "SELECT value, execution_id FROM metric_latest WHERE key = :k "
                    "AND value IS NOT NULL ORDER BY value DESC, execution_id DESC "
                    "LIMIT 1 OFFSET :d"
                ),
                {"k": key, "d": shape.depth - 1},
            ).one()
            position = search_cursor.After(value, last)
    engine.dispose()
    return search_cursor.encode(position)


def explain(url: str, shape: Shape) -> str:
    """EXPLAIN ANALYZE of the statements the store sends for this shape."""
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
        runs.search(
            session,
            project_id,
            experiments=["bench"],
            filter=shape.filter,
            order_by=shape.order,
            cursor=deep_cursor(url, shape),
        )
    event.remove(db.engine, "before_cursor_execute", capture)
    plans = []
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, params in seen:
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS off, TIMING off) " + statement, params)
                plans.append("\n".join(r[0] for r in cur.fetchall()))
    db.dispose()
    return "\n--\n".join(plans)


def _wait_ready(base: str, server: subprocess.Popen) -> None:  # type: ignore[type-arg]
    wait_healthy(base, server)
    # Feast loads in the background after start-up (GIL-bound for a few seconds): measure
    # search after it, not beside it.
    deadline = time.monotonic() + 120
    while httpx.get(f"{base}/api/v1/health").json()["features"] != "ready":
        if time.monotonic() > deadline:
            raise SystemExit("the feature store did not finish loading")
        time.sleep(0.2)


def measure(url: str, rounds: int, size: int) -> dict[str, dict[str, Any]]:
    port = free_port()
    env = {**os.environ, "MLLEDGER_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "mlledger.client", "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    out: dict[str, dict[str, Any]] = {}
    try:
        _wait_ready(base, server)
        with httpx.Client(base_url=base, headers={"X-Mlledger-Project": PROJECT}, timeout=300) as c:
            for shape in SHAPES:
                if shape.depth >= size:
                    continue
                params: dict[str, Any] = {"experiment": "bench", "limit": 100}
                if shape.filter:
                    params["filter"] = shape.filter
                if shape.order:
                    params["order_by"] = shape.order
                cursor = deep_cursor(url, shape)
                if cursor:
                    params["cursor"] = cursor
                first = c.get("/api/v1/runs", params=params)  # warm-up
                first.raise_for_status()
                times = []
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    r = c.get("/api/v1/runs", params=params)
                    times.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                times.sort()
                out[shape.label] = {
                    "p50_ms": statistics.median(times),
                    "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
                    "names": [run["name"] for run in first.json()["items"]],
                }
        return out
    finally:
        server.terminate()
        server.wait()


def measure_mlflow(
    admin_url: str, venv: Path, size: int, rounds: int, budget: float, reuse: bool
) -> dict[str, dict[str, Any]]:
    name = f"mlflow_search_{size}"
    url = admin_url.rsplit("/", 1)[0] + f"/{name}" if reuse else fresh_database(admin_url, name)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(venv / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            url.replace("postgresql+psycopg://", "postgresql://"),
            "--default-artifact-root",
            "/tmp/mlflow-search-bench",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("mlflow server did not start") from None
            time.sleep(0.3)
        api = f"{base}/api/2.0/mlflow/experiments"
        if reuse:
            found = httpx.get(f"{api}/get-by-name", params={"experiment_name": "bench"})
            experiment_id = found.json()["experiment"]["experiment_id"]
        else:
            made = httpx.post(f"{api}/create", json={"name": "bench"})
            made.raise_for_status()
            experiment_id = made.json()["experiment_id"]
            started = time.perf_counter()
            engine = create_engine(url)
            with engine.begin() as conn:
                fill_mlflow(conn, int(experiment_id), size)
            engine.dispose()
            vacuum(url)
            took = time.perf_counter() - started
            print(f"mlflow: filled {size:,} runs in {took:.1f} s", file=sys.stderr)
        shapes = [
            {
                "label": s.label,
                "mlflow_filter": s.mlflow_filter,
                "order": s.mlflow_order,
                "depth": s.depth,
            }
            for s in SHAPES
            if s.depth < size
        ]
        done = subprocess.run(
            [
                str(venv / "bin" / "python"),
                str(MLFLOW_SIDE),
                base,
                str(experiment_id),
                json.dumps(shapes),
                "--rounds",
                str(rounds),
                "--budget",
                str(budget),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        result: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
        return result
    finally:
        server.terminate()
        server.wait()


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    if "skipped" in r:
        return "n/a"
    if r.get("p50_ms") is None:
        return f"gave up ({r['first_ms'] / 1000:.0f} s for one)"
    text_ = f"{r['p50_ms']:,.0f} / {r['p95_ms']:,.0f}"
    return text_ + (f" ({r['rounds']} rounds)" if r.get("gave_up") else "")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--admin-url", required=True)
    p.add_argument("--mlflow-venv", type=Path, default=None)
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--mlflow-rounds", type=int, default=10)
    p.add_argument("--mlflow-budget", type=float, default=120.0)
    p.add_argument("--sqlite-max", type=int, default=100_000, help="largest size run on SQLite")
    p.add_argument("--explain", action="store_true", help="print each shape's plan")
    p.add_argument(
        "--reuse", action="store_true", help="measure the databases a previous run filled"
    )
    a = p.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    results: dict[str, dict[int, dict[str, dict[str, Any]]]] = {
        "postgres": {},
        "sqlite": {},
        "mlflow": {},
    }
    for size in sizes:
        name = f"mlledger_search_{size}"
        if a.reuse:
            url = a.admin_url.rsplit("/", 1)[0] + f"/{name}"
            migrate(url)
        else:
            url = fresh_database(a.admin_url, name)
            prepare(url, size)
        results["postgres"][size] = measure(url, a.rounds, size)
        if a.explain:
            for shape in SHAPES:
                if shape.depth < size:
                    print(f"\n### {shape.label} at {size:,} runs\n{explain(url, shape)}")
        if size <= a.sqlite_max:
            path = Path(f"/tmp/mlledger-search-{size}.db")
            lite = f"sqlite:///{path}"
            if not (a.reuse and path.exists()):
                path.unlink(missing_ok=True)
                prepare(lite, size)
            else:
                migrate(lite)
            results["sqlite"][size] = measure(lite, a.rounds, size)
        if a.mlflow_venv is not None:
            results["mlflow"][size] = measure_mlflow(
                a.admin_url, a.mlflow_venv, size, a.mlflow_rounds, a.mlflow_budget, a.reuse
            )
    print(json.dumps({k: {str(s): v for s, v in r.items()} for k, r in results.items()}, indent=1))
    print(json.dumps([asdict(s) for s in SHAPES]), file=sys.stderr)
    head = ["shape", "filter / order"]
    for size in sizes:
        head.append(f"mlledger PG {size:,}")
        if size in results["sqlite"]:
            head.append(f"mlledger SQLite {size:,}")
        if size in results["mlflow"]:
            head += [f"MLflow {size:,}", "same page"]
    print("\np50 / p95 ms, 100 runs a page\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for shape in SHAPES:
        what = f"`{shape.filter or '-'}`" + (f", by `{shape.order}`" if shape.order else "")
        if shape.depth:
            what += f", after {shape.depth:,}"
        cells = [shape.label, what]
        for size in sizes:
            ours = results["postgres"][size].get(shape.label)
            cells.append(_cell(ours))
            if size in results["sqlite"]:
                lite = results["sqlite"][size].get(shape.label)
                cells.append(_cell(lite))
                if ours and lite and lite["names"] != ours["names"]:
                    cells[-1] += " (DIFFERENT PAGE)"
            if size in results["mlflow"]:
                theirs = results["mlflow"][size].get(shape.label)
                cells.append(_cell(theirs))
                same = ""
                if ours and theirs and theirs.get("names"):
                    same = "yes" if theirs["names"] == ours["names"] else "NO"
                cells.append(same)
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
