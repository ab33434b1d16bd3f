"""Start `mlledger serve` and `mlflow server` on fresh databases of one Postgres, run the same
workload through each client (bench/tracking/side.py), print a side-by-side table."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent


def fresh_database(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    for _ in range(600):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.args}") from None
        time.sleep(0.2)
    raise SystemExit(f"server did not start: {url}")


def side(python: str, system: str, url: str, extra: list[str]) -> dict:
    out = subprocess.run(
        [python, str(HERE / "side.py"), system, url, *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--admin-url", required=True)
    p.add_argument("--mlflow-venv", required=True)
    p.add_argument("--calls", type=int, default=100_000)
    p.add_argument("--durable", type=int, default=500_000)
    p.add_argument("--mlflow-calls", type=int, default=2_000)
    p.add_argument("--mlflow-durable", type=int, default=2_000)
    p.add_argument("--mlflow-batch-points", type=int, default=50_000)
    p.add_argument("--history", type=int, default=100_000)
    a = p.parse_args()

    results = []
    ours_db = fresh_database(a.admin_url, "mlledger_tracking_bench")
    env = {**os.environ, "MLLEDGER_DATABASE_URL": ours_db}
    mll = [sys.executable, "-m", "mlledger.client"]
    subprocess.run([*mll, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*mll, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait(f"http://127.0.0.1:{port}/api/v1/health", server)
        # The feature store loads in the background after start-up and holds the GIL for a few
        # seconds: measured beside it, tracking lost a third of its rate (what 2026-12-01's
        # figures before this wait show).
        deadline = time.monotonic() + 120
        while httpx.get(f"http://127.0.0.1:{port}/api/v1/health").json()["features"] != "ready":
            if time.monotonic() > deadline:
                raise SystemExit("the feature store did not finish loading")
            time.sleep(0.2)
        results.append(
            side(
                sys.executable,
                "mlledger",
                f"http://127.0.0.1:{port}",
                ["--calls", str(a.calls), "--durable", str(a.durable), "--history", str(a.history)],
            )
        )
    finally:
        server.terminate()
        server.wait()

    theirs_db = fresh_database(a.admin_url, "mlflow_tracking_bench").replace(
        "postgresql+psycopg://", "postgresql://"
    )
    port = free_port()
    mlflow_bin = str(Path(a.mlflow_venv) / "bin" / "mlflow")
    artifacts = Path("/tmp/mlflow-bench-artifacts")
    server = subprocess.Popen(
        [
            mlflow_bin,
            "server",
            "--backend-store-uri",
            theirs_db,
            "--default-artifact-root",
            str(artifacts),
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
        wait(f"http://127.0.0.1:{port}/health", server)
        results.append(
            side(
                str(Path(a.mlflow_venv) / "bin" / "python"),
                "mlflow",
                f"http://127.0.0.1:{port}",
                [
                    "--calls",
                    str(a.mlflow_calls),
                    "--durable",
                    str(a.mlflow_durable),
                    "--history",
                    str(a.history),
                    "--batch-points",
                    str(a.mlflow_batch_points),
                ],
            )
        )
    finally:
        server.terminate()
        server.wait()
    report(results)


def report(results: list[dict]) -> None:
    ours, theirs = results
    print(json.dumps(results, indent=2))
    print()
    print("| measure | mlledger | " + theirs["system"] + " | ratio |")
    print("|---|---|---|---|")
    a, b = ours["log_metric"], theirs["log_metric"]
    print(
        f"| log_metric p50 / p95 / p99 µs (calls: {a['n']:,} / {b['n']:,}) "
        f"| {a['p50_us']:.2f} / {a['p95_us']:.2f} / {a['p99_us']:.2f} "
        f"| {b['p50_us']:.1f} / {b['p95_us']:.1f} / {b['p99_us']:.1f} "
        f"| {b['p50_us'] / a['p50_us']:.0f}x cheaper (p50) |"
    )
    a, b = ours["durable"], theirs["durable"]
    print(
        f"| durable points/s, log_metric loop + flush ({a['points']:,} / {b['points']:,} points) "
        f"| {a['points_per_s']:,.0f} | {b['points_per_s']:,.0f} "
        f"| {a['points_per_s'] / b['points_per_s']:.0f}x |"
    )
    c = theirs["durable_log_batch"]
    print(
        f"| durable points/s, MLflow log_batch of 1,000 ({c['points']:,} points) "
        f"| {a['points_per_s']:,.0f} | {c['points_per_s']:,.0f} "
        f"| {a['points_per_s'] / c['points_per_s']:.0f}x |"
    )
    a, b = ours["history"], theirs["history"]
    print(
        f"| history read of {a['points']:,} points, p50 / max ms "
        f"| {a['p50_ms']:.0f} / {a['max_ms']:.0f} | {b['p50_ms']:.0f} / {b['max_ms']:.0f} "
        f"| {b['p50_ms'] / a['p50_ms']:.1f}x |"
    )


if __name__ == "__main__":
    main()
