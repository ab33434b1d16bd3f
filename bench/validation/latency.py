"""Data gate latency, end to end: from `POST /api/v1/validation/jobs` to the verdict being
readable at `GET /api/v1/datasets/{id}/gate` — through a real `mlledger serve` on PostgreSQL and
one real `mlledger worker` in the validator environment — beside the peer, the same TFDV work
done in-process by hand (read the file, statistics, validate against the schema and the
previous version's statistics for drift) with no service at all. The difference is what the
gate costs on top of TFDV: queueing, leasing, shipping protos, recording lineage.

Each dataset version (ROWS x 50 columns, fresh random data, same distribution) is submitted
after the previous verdict is in, so this is latency, not throughput. The breakdown comes from
the job's own timestamps: queued (created → leased), worked (leased → finished).

    bench/validation/run.sh latency [--versions 30] [--rows 10000] [--poll 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / ".venv-validator" / "bin"
PROJECT = "bench"

PEER = r"""
import json, sys, time
from mlledger.validation import checks
paths = sys.argv[1:]
previous = schema = None
times = []
for i, path in enumerate(paths):
    start = time.perf_counter()
    stats = checks.statistics(path, "parquet", beam=False)
    outcome = checks.validate(stats, schema=schema, environment=None, previous=previous,
                              serving=None, thresholds={"drift": {"default": 0.1}, "skew": None})
    times.append(time.perf_counter() - start)
    schema = schema or outcome.inferred_schema
    previous = outcome.statistics
print(json.dumps(times))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for i in range(25):
        data[f"num_{i}"] = rng.normal(i, 1 + i, rows)
    for i in range(15):
        data[f"int_{i}"] = rng.integers(0, 100, rows)
    for i in range(10):
        data[f"cat_{i}"] = np.array([f"c{j}" for j in range(20)])[rng.integers(0, 20, rows)]
    return pd.DataFrame(data)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def stamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--admin-url", required=True)
    p.add_argument("--versions", type=int, default=30)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--poll", type=float, default=0.1, help="the worker's --poll")
    a = p.parse_args()

    engine = create_engine(a.admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "mlledger_bench_gates" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "mlledger_bench_gates"'))
    engine.dispose()
    root = Path(tempfile.mkdtemp(prefix="gatebench-"))
    paths = []
    for i in range(a.versions):
        path = root / f"v{i + 1}.parquet"
        frame(a.rows, i).to_parquet(path)
        paths.append(path)

    env = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
    env |= {
        "MLLEDGER_DATABASE_URL": a.database_url,
        "MLLEDGER_HOME": str(root / "home"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    mll = [sys.executable, "-m", "mlledger.client"]
    subprocess.run([*mll, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*mll, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        worker_env = env | {"MLLEDGER_URL": url, "MLLEDGER_PROJECT": PROJECT}
        worker = subprocess.Popen(
            # The bench's data lives under `root`: the worker's one data root.
            [
                str(VALIDATOR / "mlledger"),
                "worker",
                "--poll",
                str(a.poll),
                "--data-root",
                str(root),
            ],
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        api = httpx.Client(
            base_url=f"{url}/api/v1", headers={"X-Mlledger-Project": PROJECT}, timeout=120
        )
        latencies, queued, worked, statuses = [], [], [], []
        for i, path in enumerate(paths):
            dataset = api.post(
                "/artifacts",
                json={
                    "kind": "dataset",
                    "name": "bench",
                    "uri": path.as_uri(),
                    "properties": {"format": "parquet"},
                },
            ).json()
            start = time.perf_counter()
            job = api.post(
                "/validation/jobs", json={"dataset": dataset["id"], "drift": {"default": 0.1}}
            ).json()
            while True:
                gate = api.get(f"/datasets/{dataset['id']}/gate").json()
                if gate["status"] not in ("pending", "none"):
                    break
                time.sleep(0.005)
            latencies.append(time.perf_counter() - start)
            statuses.append(gate["status"])
            j = api.get(f"/validation/jobs/{job['id']}").json()
            queued.append(stamp(j["started_at"]) - stamp(j["created_at"]))
            worked.append(stamp(j["finished_at"]) - stamp(j["started_at"]))
            print(f"  v{i + 1}: {latencies[-1] * 1000:7.0f} ms  {gate['status']}", flush=True)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait()
        server.terminate()
        server.wait()

    peer = subprocess.run(
        [str(VALIDATOR / "python"), "-c", PEER, *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    direct = json.loads(peer.stdout.strip().splitlines()[-1])
    # The first version infers a schema on both sides; leave it out of both.
    gate_ms = [x * 1000 for x in latencies[1:]]
    direct_ms = [x * 1000 for x in direct[1:]]
    print(
        f"\n{a.versions} versions of {a.rows:,} rows x 50 columns, one worker (--poll "
        f"{a.poll}), verdicts: {sorted(set(statuses))}"
    )
    print("| | p50 | p95 | max |")
    print("|---|---|---|---|")
    for label, xs in (
        ("gate: submission → verdict", gate_ms),
        ("… of which queued (created → leased)", [x * 1000 for x in queued[1:]]),
        ("… of which worked (leased → finished)", [x * 1000 for x in worked[1:]]),
        ("peer: TFDV by hand, in-process", direct_ms),
    ):
        print(f"| {label} | {pct(xs, 50):.0f} ms | {pct(xs, 95):.0f} ms | {max(xs):.0f} ms |")
    print(
        f"\ngate / TFDV by hand: p50 {pct(gate_ms, 50) / pct(direct_ms, 50):.2f}x, "
        f"p95 {pct(gate_ms, 95) / pct(direct_ms, 95):.2f}x"
    )


if __name__ == "__main__":
    main()
