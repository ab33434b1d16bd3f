"""/health under abuse: a real `mlledger serve` (tokens required, one worker, Postgres), a
lineage graph of `--nodes` nodes, then three phases of `--seconds` each, timing /health from
one client every 20 ms:

- idle: nothing else;
- graphql: two clients with a read token sending, back to back, the costliest queries the
  limits admit (a full lineage answer of the graph with every node field, and 20 aliased
  introspection queries);
- bodies: two clients without a token posting 16 MiB JSON bodies;
- both at once.

Reports /health p50/p99 per phase and as a ratio to idle, and what the attackers got.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from _support.servers import free_port, wait_healthy  # noqa: E402

LINEAGE = """query ($node: String!) {
  lineage(nodeId: $node, direction: BOTH, depth: 100) {
    root truncated
    nodes { id type kind name version state depth status }
    edges { source target type } } }"""
INTROSPECTION = (
    "{ "
    + " ".join(f"s{i}: __schema {{ types {{ name kind fields {{ name }} }} }}" for i in range(20))
    + " }"
)


def fresh_database(url: str, name: str) -> str:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


def mlledger(*args: str, env: dict[str, str]) -> str:
    exe = ROOT / ".venv" / "bin" / "mlledger"
    return subprocess.run(
        [str(exe), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def chain(api: httpx.Client, nodes: int) -> str:
    """One chain of steps (execution reads the previous output, writes the next): `nodes`
    nodes, so a lineage query from its end reaches all of them within the depth bound 100
    only in part — several chains joined at one shared input make it wide instead."""
    shared = api.post("/artifacts", json={"kind": "dataset", "name": "raw"}).json()["id"]
    steps = nodes // 2
    last = None
    for start in range(0, steps, 500):
        batch = [
            {
                "kind": "run",
                "name": f"step-{i}",
                "inputs": [{"artifact_id": shared}],
                "outputs": [{"artifact": {"kind": "model", "name": f"out-{i}"}}],
            }
            for i in range(start, min(steps, start + 500))
        ]
        r = api.post("/executions/batch?view=ids", json={"executions": batch})
        r.raise_for_status()
        last = r
    assert last is not None
    return f"artifact:{shared}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", required=True)
    ap.add_argument("--nodes", type=int, default=6000)
    ap.add_argument("--seconds", type=float, default=30)
    a = ap.parse_args()

    url = fresh_database(a.database, "mlledger_abuse")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
    env |= {"MLLEDGER_DATABASE_URL": url, "MLLEDGER_AUTH": "required"}
    home = Path(f"/tmp/mlledger-abuse-{uuid.uuid4().hex[:6]}")
    home.mkdir()
    env["MLLEDGER_HOME"] = str(home)
    mlledger("db", "upgrade", env=env)
    token = mlledger("token", "create", "--project", "abuse", "--scope", "write", env=env)
    token = token.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/mlledger"), "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        auth = {"Authorization": f"Bearer {token}"}
        api = httpx.Client(base_url=f"{base}/api/v1", headers=auth, timeout=300)
        node = chain(api, a.nodes)
        results = run_phases(base, auth, node, a.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(results, indent=2))
    idle = results["idle"]["health_p99_ms"]
    print("\n| phase | /health p50 ms | p99 ms | p99 / idle p99 | attacker requests | answers |")
    print("|---|---|---|---|---|---|")
    for phase, r in results.items():
        print(
            f"| {phase} | {r['health_p50_ms']:.2f} | {r['health_p99_ms']:.2f} | "
            f"{r['health_p99_ms'] / idle:.1f}x | {r['attacks']} | {r['answers']} |"
        )


def run_phases(base: str, auth: dict[str, str], node: str, seconds: float) -> dict:
    out = {}
    for phase in ("idle", "graphql", "bodies", "both"):
        stop = threading.Event()
        attacks: list[str] = []
        lock = threading.Lock()

        def graphql_attacker(
            query: str, variables: dict, stop=stop, lock=lock, attacks=attacks
        ) -> None:
            with httpx.Client(base_url=base, headers=auth, timeout=120) as c:
                while not stop.is_set():
                    r = c.post("/graphql", json={"query": query, "variables": variables})
                    body = r.json()
                    code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code", "ok")
                    with lock:
                        attacks.append(f"graphql {r.status_code} {code}")

        def body_attacker(stop=stop, lock=lock, attacks=attacks) -> None:
            blob = (
                b'{"kind": "dataset", "name": "x", "properties": {"p": "'
                + b"y" * (16 * 1024 * 1024 - 100)
                + b'"}}'
            )
            with httpx.Client(base_url=base, timeout=120) as c:
                while not stop.is_set():
                    try:
                        r = c.post(
                            "/api/v1/artifacts",
                            content=blob,
                            headers={"content-type": "application/json"},
                        )
                        status = str(r.status_code)
                    except httpx.HTTPError as exc:  # the server answered 401 and hung up
                        status = type(exc).__name__
                    with lock:
                        attacks.append(f"body {status}")

        threads = []
        if phase in ("graphql", "both"):
            threads += [
                threading.Thread(target=graphql_attacker, args=(LINEAGE, {"node": node})),
                threading.Thread(target=graphql_attacker, args=(INTROSPECTION, {})),
            ]
        if phase in ("bodies", "both"):
            threads += [threading.Thread(target=body_attacker) for _ in range(2)]
        for t in threads:
            t.start()
        times: list[float] = []
        with httpx.Client(base_url=base, timeout=60) as probe:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                t0 = time.perf_counter()
                probe.get("/api/v1/health")
                times.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.02)
        stop.set()
        for t in threads:
            t.join(timeout=300)
        kinds: dict[str, int] = {}
        for x in attacks:
            kinds[x] = kinds.get(x, 0) + 1
        out[phase] = {
            "health_p50_ms": statistics.median(times),
            "health_p99_ms": pct(times, 0.99),
            "health_samples": len(times),
            "attacks": len(attacks),
            "answers": ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())),
        }
    return out


if __name__ == "__main__":
    main()
