"""OpenLineage into mlledger over HTTP, as producers send it (one event a request) and as a
backlog is replayed (`/lineage/batch`): the ingest rate with one client and several, and
lineage and impact queries' p50/p95 on a graph of `--datasets` OpenLineage datasets written
by as many job runs (chains of ETL steps, each reading the previous step's table and a shared
dimension table, the tail feeding a model).

    bench/openlineage/run.sh [--datasets 100000] [--clients 1,4] [--batches 1,100]
                             [--events 3000] [--rounds 100]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))
sys.path.insert(0, str(HERE.parents[0] / "search"))
from _support.servers import clean_env, free_port, wait_healthy  # noqa: E402
from run import fresh_database, migrate  # noqa: E402  (bench/search/run.py)

CHAIN = 50  # ETL steps a chain has
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def event(
    kind: str, run: str, job: str, inputs: list[str], outputs: list[str], t: str
) -> dict[str, Any]:
    return {
        "eventTime": t,
        "eventType": kind,
        "producer": "https://github.com/apache/airflow",
        "schemaURL": SCHEMA,
        "run": {"runId": run},
        "job": {"namespace": "airflow", "name": job},
        "inputs": [{"namespace": "postgres://db:5432", "name": n} for n in inputs],
        "outputs": [
            {"namespace": "postgres://db:5432", "name": n,
             "facets": {"schema": {"fields": [{"name": "id", "type": "bigint"}]}}}
            for n in outputs
        ],
    }  # fmt: skip


def step_events(chain: int, step: int, prefix: str) -> list[dict[str, Any]]:
    """One ETL step: START and COMPLETE, reading the previous step's table and a dimension."""
    run = str(uuid.uuid4())
    inputs = [f"{prefix}.dim{chain % 10}"] + ([f"{prefix}.c{chain}.t{step - 1}"] if step else [])
    outputs = [f"{prefix}.c{chain}.t{step}"]
    job = f"{prefix}.c{chain}.step{step}"
    minute = f"{step // 60:02d}:{step % 60:02d}"
    return [
        event("START", run, job, inputs, outputs, f"2026-12-01T00:{minute}Z"),
        event("COMPLETE", run, job, inputs, outputs, f"2026-12-01T01:{minute}Z"),
    ]


def post_all(url: str, events: list[dict[str, Any]], clients: int, batch: int = 1) -> float:
    """Events/s, `clients` threads each sending whole chains in order (a DAG's producer emits
    its tasks' events as they happen): one event a request to `/lineage`, or `batch`
    consecutive events a request to `/lineage/batch`."""
    per_chain = 2 * CHAIN
    chains = [events[i : i + per_chain] for i in range(0, len(events), per_chain)]
    shares = [[e for chain in chains[i::clients] for e in chain] for i in range(clients)]

    def send(share: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=url, timeout=120) as c:
            for start in range(0, len(share), batch):
                part = share[start : start + batch]
                if batch == 1:
                    r = c.post("/api/v1/lineage", json=part[0])
                else:
                    r = c.post("/api/v1/lineage/batch", json=part)
                if r.status_code not in (200, 201):
                    raise AssertionError(r.text)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, shares))
    return len(events) / (time.perf_counter() - t0)


def timed(c: httpx.Client, rounds: int, path: str, params: dict[str, Any]) -> dict[str, float]:
    c.get(path, params=params).raise_for_status()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        c.get(path, params=params).raise_for_status()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1]}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--admin-url", required=True)
    p.add_argument("--datasets", type=int, default=100_000)
    p.add_argument("--clients", default="1,4")
    p.add_argument("--batches", default="1,100", help="events a request, timed each")
    p.add_argument("--events", type=int, default=3000, help="events timed per measurement")
    p.add_argument("--rounds", type=int, default=100)
    a = p.parse_args()
    url = fresh_database(a.admin_url, "openlineage_bench")
    migrate(url)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlledger.client", "serve", "--port", str(port), "--workers", "2",
         "--no-access-log"],
        env=clean_env(MLLEDGER_DATABASE_URL=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        chains = max(1, a.datasets // CHAIN)
        everything = [
            e for c in range(chains) for s in range(CHAIN) for e in step_events(c, s, "shop")
        ]
        rates: dict[tuple[int, int], float] = {}
        warm = 4 * 2 * CHAIN  # warm-up: both workers' first requests load lazily
        post_all(base, everything[:warm], 4)
        done = warm
        for batch in [int(x) for x in a.batches.split(",")]:
            for clients in [int(x) for x in a.clients.split(",")]:
                size = a.events * (1 if batch == 1 else 4)
                part = everything[done : done + size - size % (2 * CHAIN) or 2 * CHAIN]
                rates[(batch, clients)] = post_all(base, part, clients, batch)
                done += len(part)
                print(
                    f"ingest, {batch} a request, {clients} client(s): "
                    f"{rates[(batch, clients)]:,.0f} events/s",
                    file=sys.stderr,
                )
        t0 = time.perf_counter()
        post_all(base, everything[done:], 2, 500)  # the rest of the graph
        print(
            f"filled {len(everything):,} events in {time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
        )
        with httpx.Client(base_url=base, timeout=60) as c:
            # A model trained on the last table of chain 0.
            run = c.post("/api/v1/runs", json={"experiment": "bench"}).json()["uuid"]
            tail = c.get(
                "/api/v1/lineage/datasets",
                params={"namespace": "postgres://db:5432", "name": f"shop.c0.t{CHAIN - 1}"},
            ).json()["artifact"]
            c.post(
                f"/api/v1/runs/{run}/inputs",
                json={"artifact": {k: tail[k] for k in ("kind", "name", "uri", "fingerprint")}},
            ).raise_for_status()
            c.post(
                "/api/v1/models/bench/versions",
                json={
                    "artifact": {"kind": "model", "name": "bench", "fingerprint": "m1"},
                    "run": run,
                },
            ).raise_for_status()
            model = c.get("/api/v1/models/bench/versions/1").json()["artifact_id"]
            head = c.get(
                "/api/v1/lineage/datasets",
                params={"namespace": "postgres://db:5432", "name": "shop.c0.t0"},
            ).json()["artifact"]["id"]
            # The graph is what it should be: the model is downstream of the chain's head and
            # of the dimension table (so the timings below are of real answers).
            dim = {"namespace": "postgres://db:5432", "name": "shop.dim0"}
            for params in ({"artifact_id": head}, dim):
                found = c.get("/api/v1/lineage/impact", params=params).json()["models"]
                assert [m["model"] for m in found] == ["bench"], (params, found)
            results = {
                f"upstream lineage of the model (depth {CHAIN + 5})": timed(
                    c,
                    a.rounds,
                    f"/api/v1/lineage/artifact/{model}",
                    {"direction": "upstream", "depth": CHAIN + 5},
                ),
                "impact of the chain's first table": timed(
                    c, a.rounds, "/api/v1/lineage/impact", {"artifact_id": head}
                ),
                "impact of a dimension table (read by 1/10 of the runs)": timed(
                    c,
                    max(5, a.rounds // 10),
                    "/api/v1/lineage/impact",
                    {"namespace": "postgres://db:5432", "name": "shop.dim0"},
                ),
                "dataset by name (column lineage)": timed(
                    c,
                    a.rounds,
                    "/api/v1/lineage/datasets",
                    {"namespace": "postgres://db:5432", "name": "shop.c7.t3"},
                ),
                "a run's events": timed(
                    c,
                    a.rounds,
                    "/api/v1/lineage/events",
                    {"job_namespace": "airflow", "job_name": "shop.c7.step3"},
                ),
            }
        print(f"| graph | {len(everything) // 2:,} runs, {chains * CHAIN + 10:,} datasets |")
        for (batch, clients), rate in rates.items():
            how = "one event a request" if batch == 1 else f"{batch} events a request"
            print(f"| ingest, {how}, {clients} client(s) | {rate:,.0f} events/s |")
        for label, r in results.items():
            print(f"| {label} | p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms |")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
