"""Lineage benchmark: MLMD 1.17.1 (Postgres, its library in process) beside mlledger (Postgres),
reached two ways: its own batch REST API, and MLMD's unchanged client over mlledger's MLMD gRPC
listener (what TFX and Kubeflow Pipelines would do).

Same graph on all (workload.py), one client each. Reports write throughput (nodes/s) and
upstream lineage latency (p50/p95, 5 and 20 hops from the deepest node of random chains).
Run through run.sh, which builds MLMD's venv and starts the services.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))
from workload import lineage_latencies, steps

HERE = Path(__file__).resolve().parent
WARMUP = 20  # untimed queries first, on both sides (connection setup, prepared statements)
ROOT = HERE.parents[1]


def fresh_database(admin_url: str, name: str) -> str:
    """An empty database, after a CHECKPOINT so the last run's writes do not bleed into this."""
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


@contextmanager
def serving(db_url: str, grpc_port: int | None = None) -> Iterator[str]:
    """`mlledger serve` on a fresh database; yields its API URL once it is at rest.

    At rest: healthy, and done loading Feast on its background thread — that load holds the
    GIL for seconds, and a benchmark started under it measures the load, not the server."""
    env = {**os.environ, "MLLEDGER_DATABASE_URL": db_url}
    mll = [sys.executable, "-m", "mlledger.client"]
    subprocess.run([*mll, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    grpc = ["--grpc-port", str(grpc_port)] if grpc_port else []
    server = subprocess.Popen(
        [*mll, "serve", "--port", str(port), *grpc],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"{url}/health", timeout=5)
                if health.status_code == 200 and health.json()["features"] != "loading":
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mlledger serve did not become healthy")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def mlledger_side(db_url: str, total_steps: int, chain: int, batch: int, queries: int) -> dict:
    with serving(db_url) as url, httpx.Client(timeout=300) as http:
        last_output: dict[int, int] = {}
        pending: list[dict] = []
        where: list[int] = []

        def flush() -> None:
            r = http.post(
                f"{url}/executions/batch", params={"view": "ids"}, json={"executions": pending}
            )
            r.raise_for_status()
            for chain_id, done in zip(where, r.json()["executions"], strict=True):
                last_output[chain_id] = done["outputs"][0]
            pending.clear()
            where.clear()

        in_batch: set[int] = set()
        started = time.perf_counter()
        for step in steps(total_steps, chain):
            inputs = []
            if step.index:  # the chain's previous output: in this batch by label, or by id
                inputs.append(
                    {"ref": f"c{step.chain}@{step.index - 1}"}
                    if step.chain in in_batch
                    else {"artifact_id": last_output[step.chain]}
                )
            inputs.append(
                {
                    "artifact": {
                        "kind": "dataset",
                        "name": f"fresh-{step.chain}-{step.index}",
                        "uri": f"file:///fresh/{step.chain}/{step.index}",
                    }
                }
            )
            pending.append(
                {
                    "kind": "run",
                    "name": f"c{step.chain}-s{step.index}",
                    "inputs": inputs,
                    "outputs": [
                        {
                            "artifact": {
                                "kind": "dataset",
                                "name": f"out-{step.chain}-{step.index}",
                                "uri": f"file:///out/{step.chain}/{step.index}",
                            },
                            "label": f"c{step.chain}@{step.index}",
                        }
                    ],
                }
            )
            in_batch.add(step.chain)
            where.append(step.chain)
            if len(pending) >= batch:
                flush()
                in_batch.clear()
        if pending:
            flush()
        write_seconds = time.perf_counter() - started

        def query(artifact_id: int, hops: int) -> int:
            r = http.get(
                f"{url}/lineage/artifact/{artifact_id}",
                params={"direction": "upstream", "depth": hops},
            )
            r.raise_for_status()
            return len(r.json()["nodes"])

        latencies = lineage_latencies(
            query, list(last_output.values()), queries=queries, warmup=WARMUP
        )
    return {
        "system": "mlledger (postgres, REST batch)",
        "steps": total_steps,
        "nodes": total_steps * 3,
        "write_seconds": write_seconds,
        "nodes_per_s": total_steps * 3 / write_seconds,
        "lineage": latencies,
    }


def mlmd_client(python: str, where: list[str], total_steps: int, chain: int, queries: int) -> dict:
    """mlmd_side.py in MLMD's venv: its library on its own store, or its gRPC client (`where`)."""
    out = subprocess.run(
        [
            python,
            str(HERE / "mlmd_side.py"),
            *where,
            "--steps",
            str(total_steps),
            "--chain",
            str(chain),
            "--queries",
            str(queries),
            "--warmup",
            str(WARMUP),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["lineage"] = {int(k): v for k, v in result["lineage"].items()}  # JSON keys are str
    return result


def mlmd_side(python: str, pg_port: int, total_steps: int, chain: int, queries: int) -> dict:
    return mlmd_client(python, ["--pg-port", str(pg_port)], total_steps, chain, queries)


def grpc_side(python: str, db_url: str, total_steps: int, chain: int, queries: int) -> dict:
    """MLMD's own client, unchanged, against `mlledger serve --grpc-port` on a fresh database."""
    port = free_port()
    with serving(db_url, grpc_port=port):
        where = ["--grpc", f"127.0.0.1:{port}", "--system", "mlledger (postgres, MLMD gRPC)"]
        return mlmd_client(python, where, total_steps, chain, queries)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="6000,60000", help="graph sizes in nodes, comma-separated")
    p.add_argument("--mlmd-max", type=int, default=60_000, help="largest size also run on MLMD")
    p.add_argument(
        "--grpc-max", type=int, default=60_000, help="largest size also run over the gRPC door"
    )
    p.add_argument("--chain", type=int, default=100, help="steps per chain")
    p.add_argument("--batch", type=int, default=1000, help="steps per REST request")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--repeat", type=int, default=1, help="runs per size; medians are reported")
    p.add_argument("--mlmd-python", required=True)
    p.add_argument("--admin-url", required=True, help="Postgres URL of the server's `postgres` db")
    args = p.parse_args()
    pg_port = int(args.admin_url.rsplit(":", 1)[1].split("/")[0])

    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        n_steps = size // 3
        ours_runs: list[dict] = []
        theirs_runs: list[dict] = []
        grpc_runs: list[dict] = []
        for _ in range(args.repeat):  # alternate the systems, so drift hits all alike
            url = fresh_database(args.admin_url, "mlledger_bench")
            ours_runs.append(mlledger_side(url, n_steps, args.chain, args.batch, args.queries))
            if size <= args.mlmd_max:
                fresh_database(args.admin_url, "mlmd_bench")
                theirs_runs.append(
                    mlmd_side(args.mlmd_python, pg_port, n_steps, args.chain, args.queries)
                )
            if size <= args.grpc_max:
                url = fresh_database(args.admin_url, "mlledger_bench")
                grpc_runs.append(
                    grpc_side(args.mlmd_python, url, n_steps, args.chain, args.queries)
                )
        results += ours_runs + theirs_runs + grpc_runs
        ours = median_run(ours_runs)
        theirs = median_run(theirs_runs) if theirs_runs else None
        grpc = median_run(grpc_runs) if grpc_runs else None
        print(report(size, ours, theirs, grpc, args.repeat), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "lineage.json").write_text(json.dumps(results, indent=2))


def median_run(runs: list[dict]) -> dict:
    """Each metric's median over the runs."""
    out = dict(runs[0])
    out["nodes_per_s"] = statistics.median(r["nodes_per_s"] for r in runs)
    out["lineage"] = {
        hops: {
            key: statistics.median(r["lineage"][hops][key] for r in runs)
            for key in ("p50_ms", "p95_ms", "nodes")
        }
        for hops in runs[0]["lineage"]
    }
    return out


def report(size: int, ours: dict, theirs: dict | None, grpc: dict | None, repeat: int) -> str:
    runs = f", median of {repeat} runs each" if repeat > 1 else ""
    lines = [
        f"\n### {size:,} nodes ({size // 3:,} steps{runs})\n",
        "| system | write nodes/s | 5 hops p50 / p95 ms | 20 hops p50 / p95 ms | 20-hop nodes |",
        "|---|---|---|---|---|",
    ]
    for r in (ours, theirs, grpc):
        if r is None:
            continue
        h5, h20 = r["lineage"][5], r["lineage"][20]
        lines.append(
            f"| {r['system']} | {r['nodes_per_s']:,.0f} | {h5['p50_ms']:.2f} / "
            f"{h5['p95_ms']:.2f} | {h20['p50_ms']:.2f} / {h20['p95_ms']:.2f} | "
            f"{h20['nodes']} |"
        )
    lines.append("")
    for name, r in (("REST", ours), ("MLMD gRPC", grpc)):
        if theirs is None or r is None:
            continue
        t5, t20 = theirs["lineage"][5], theirs["lineage"][20]
        o5, o20 = r["lineage"][5], r["lineage"][20]
        lines.append(
            f"mlledger ({name}) / MLMD: write x{r['nodes_per_s'] / theirs['nodes_per_s']:.2f}; "
            f"MLMD / mlledger ({name}) p50 / p95: 5 hops x{t5['p50_ms'] / o5['p50_ms']:.2f} / "
            f"x{t5['p95_ms'] / o5['p95_ms']:.2f}, 20 hops x{t20['p50_ms'] / o20['p50_ms']:.2f} / "
            f"x{t20['p95_ms'] / o20['p95_ms']:.2f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
