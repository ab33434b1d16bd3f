"""The same MLflow client script (client_side.py, in MLflow's venv) against `mlflow server` 3.17.2
and against mlledger's MLflow door, both on the same Postgres: async `log_metric` until durable,
`log_batch`, `get_metric_history` of 100,000 points, `search_runs` at 100,000 runs (the
databases bench/search filled: run it first), and a 200 MB artifact up and down.

    bench/mlflow/run.sh [--rounds 10] [--megabytes 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from _support.servers import free_port, wait_healthy  # noqa: E402

SEARCH_PROJECT = "search-bench"  # bench/search's


def fresh_database(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def exists(admin_url: str, name: str) -> bool:
    engine = create_engine(admin_url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        ok = found.first() is not None
    engine.dispose()
    return ok


class Running:
    """A server process, stopped on exit."""

    def __init__(self, argv: list[str], env: dict[str, str], health: str, base: str) -> None:
        self.base = base
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{base}{health}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{argv[0]} did not start")
            time.sleep(0.3)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait()


def mlflow_server(venv: Path, url: str, artifacts: str) -> Running:
    port = free_port()
    argv = [
        str(venv / "bin" / "mlflow"),
        "server",
        "--backend-store-uri",
        url.replace("postgresql+psycopg://", "postgresql://"),
        "--artifacts-destination",
        artifacts,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    return Running(argv, dict(os.environ), "/health", f"http://127.0.0.1:{port}")


def mlledger_server(url: str, artifacts: str) -> Running:
    subprocess.run(
        [sys.executable, "-m", "mlledger.client", "db", "upgrade"],
        env={**os.environ, "MLLEDGER_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    port = free_port()
    env = {**os.environ, "MLLEDGER_DATABASE_URL": url, "MLLEDGER_ARTIFACTS__ROOT": artifacts}
    argv = [
        sys.executable,
        "-m",
        "mlledger.client",
        "serve",
        "--port",
        str(port),
        "--no-access-log",
    ]
    server = Running(argv, env, "/api/v1/health", f"http://127.0.0.1:{port}")
    wait_healthy(server.base, server.proc)
    deadline = time.monotonic() + 120  # Feast loads in the background: measure after it
    while httpx.get(f"{server.base}/api/v1/health").json()["features"] != "ready":
        if time.monotonic() > deadline:
            raise SystemExit("the feature store did not finish loading")
        time.sleep(0.2)
    return server


def client(venv: Path, uri: str, part: str, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLLEDGER_"))}
    env["MLFLOW_TRACKING_URI"] = uri
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(HERE / "client_side.py"), part, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{part} against {uri} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--admin-url", required=True)
    p.add_argument("--mlflow-venv", type=Path, required=True)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--megabytes", type=int, default=200)
    a = p.parse_args()
    opts = ["--rounds", str(a.rounds), "--megabytes", str(a.megabytes)]
    results: dict[str, dict[str, Any]] = {"mlflow": {}, "mlledger": {}}
    scratch = Path(tempfile.mkdtemp(prefix="mlflow-door-bench-"))

    db = fresh_database(a.admin_url, "mlflow_door_bench")
    with mlflow_server(a.mlflow_venv, db, str(scratch / "mlflow-artifacts")) as s:
        for part in ("tracking", "artifacts"):
            results["mlflow"][part] = client(a.mlflow_venv, s.base, part, *opts)
    db = fresh_database(a.admin_url, "mlledger_door_bench")
    with mlledger_server(db, str(scratch / "mlledger-artifacts")) as s:
        for part in ("tracking", "artifacts"):
            results["mlledger"][part] = client(a.mlflow_venv, s.base, part, *opts)

    if exists(a.admin_url, "mlflow_search_100000") and exists(
        a.admin_url, "mlledger_search_100000"
    ):
        base = a.admin_url.rsplit("/", 1)[0]
        with mlflow_server(a.mlflow_venv, f"{base}/mlflow_search_100000", str(scratch / "x")) as s:
            results["mlflow"]["search"] = client(a.mlflow_venv, s.base, "search", *opts)
        with mlledger_server(f"{base}/mlledger_search_100000", str(scratch / "y")) as s:
            uri = f"{s.base}/projects/{SEARCH_PROJECT}"
            results["mlledger"]["search"] = client(a.mlflow_venv, uri, "search", *opts)
    else:
        print("no search databases: run bench/search/run.sh --sizes 100000 first", file=sys.stderr)
    print(json.dumps(results, indent=1))
    report(results)


def report(r: dict[str, dict[str, Any]]) -> None:
    f, m = r["mlflow"], r["mlledger"]
    rows = [
        (
            "async `log_metric`, durable points/s",
            "tracking",
            "async_log_metric",
            "points_per_s",
            True,
        ),
        ("`log_batch` of 1,000, points/s", "tracking", "log_batch", "points_per_s", True),
        ("`get_metric_history` 100,000 points, p50 ms", "tracking", "history", "p50_ms", False),
        ("200 MB `log_artifact`, MB/s", "artifacts", None, "upload_mb_s", True),
        ("200 MB `download_artifacts`, MB/s", "artifacts", None, "download_mb_s", True),
    ]
    print("\n| measure (same MLflow client) | mlflow server | mlledger | mlledger / MLflow |")
    print("|---|---|---|---|")
    for label, part, key, field, higher in rows:
        a = f[part][key][field] if key else f[part][field]
        b = m[part][key][field] if key else m[part][field]
        ratio = b / a if higher else a / b
        print(f"| {label} | {a:,.1f} | {b:,.1f} | {ratio:.1f}x |")
    if "search" in f and "search" in m:
        for label, got in f["search"].items():
            mine = m["search"][label]
            same = "same first page" if got["first"] == mine["first"] else "pages differ"
            print(
                f"| `search_runs` at 100k: {label}, p50 / p95 ms ({same}) | "
                f"{got['p50_ms']:,.0f} / {got['p95_ms']:,.0f} | "
                f"{mine['p50_ms']:,.0f} / {mine['p95_ms']:,.0f} | "
                f"{got['p50_ms'] / mine['p50_ms']:.1f}x |"
            )


if __name__ == "__main__":
    main()
