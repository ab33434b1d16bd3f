"""Online reads, four ways, on one Redis and one registry:

- mlledger: `POST /api/v1/features/online` on `mlledger serve` (one worker), over HTTP;
- mlledger in-process: the same read path (`service.domain.features.get_online`), no HTTP;
- Feast SDK: `FeatureStore.get_online_features` in this process (no HTTP at all);
- `feast serve`: Feast's own HTTP server, `POST /get-online-features`;
- the HTTP floor: uvicorn + FastAPI answering the same body with a constant (`floor.py`).

Cases: 1, 10 and 100 entities x 20 features of one view, and x 50 features of 5 views.
Each case: warm-up, then `--requests` rounds with random entity ids, twice — interleaved
(every contender asked in turn within a round) and back to back (see `measure`); p50 and p99.
Both HTTP servers get the same lean keep-alive client (`http.client`) and have their answer
read but not parsed inside the timing; on two or more cores the servers run on the last core
and this process on the first, so neither server competes with the load generator.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import yaml
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
PROJECT = "featbench"
DRIVERS = 10_000
VIEWS = {"stats20": 20, **{f"v{i}": 10 for i in range(5)}}

DEFINITIONS = """
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32
from feast.value_type import ValueType

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
"""
VIEW = """
{name}_source = FileSource(name="{name}_source", path="{path}", timestamp_field="event_timestamp")
{name} = FeatureView(name="{name}", entities=[driver], ttl=timedelta(days=30),
    schema=[{fields}], online=True, source={name}_source)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir(parents=True)
    now = datetime.now(UTC) - timedelta(minutes=5)
    rng = np.random.default_rng(0)
    text_ = DEFINITIONS
    for name, n in VIEWS.items():
        frame = pd.DataFrame(
            {f"{name}_{i}": rng.random(DRIVERS).astype("float32") for i in range(n)}
        )
        frame.insert(0, "driver_id", np.arange(DRIVERS, dtype="int64"))
        frame["event_timestamp"] = pd.Timestamp(now)
        path = root / f"{name}.parquet"
        frame.to_parquet(path)
        fields = ", ".join(f'Field(name="{name}_{i}", dtype=Float32)' for i in range(n))
        text_ += VIEW.format(name=name, path=path, fields=fields)
    (repo / "definitions.py").write_text(text_)
    return repo


def wait(url: str, proc: subprocess.Popen, body: dict | None = None) -> None:  # type: ignore[type-arg]
    for _ in range(600):
        try:
            r = httpx.post(url, json=body, timeout=2) if body else httpx.get(url, timeout=2)
            if r.status_code < 500:
                return
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit(f"exited: {proc.args}") from None
        time.sleep(0.2)
    raise SystemExit(f"did not start: {url}")


CLOSED_WHILE_IDLE = (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected)


class Http:
    """A keep-alive HTTP/1.1 client with next to no per-request overhead (httpx costs a few
    hundred microseconds a request, which would hide the servers' differences)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: dict, headers: dict[str, str] | None = None) -> bytes:  # type: ignore[type-arg]
        # Bytes, so that http.client sends headers and body in one segment (no Nagle stall).
        payload = json.dumps(body).encode()
        for attempt in (1, 2):
            try:
                self.conn.request(
                    "POST", path, payload, {"Content-Type": "application/json", **(headers or {})}
                )
                response = self.conn.getresponse()
                data = response.read()
                break
            except CLOSED_WHILE_IDLE:
                # Servers close a connection idle for 5 s (while the others run back to back);
                # that first request is a warm-up one, and is sent again on a new connection.
                self.conn.close()
                if attempt == 2:
                    raise
            except (OSError, http.client.HTTPException):
                self.conn.close()  # the next request reconnects
                raise
        if response.status != 200:
            raise AssertionError(f"{path}: {response.status} {data[:300]!r}")
        return data


def pinned(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


def cases() -> list[tuple[str, int, list[str]]]:
    one_view = [f"stats20:stats20_{i}" for i in range(20)]
    five_views = [f"v{v}:v{v}_{i}" for v in range(5) for i in range(10)]
    return [
        (f"{n} x {label}", n, feats)
        for label, feats in (
            ("20 features (1 view)", one_view),
            ("50 features (5 views)", five_views),
        )
        for n in (1, 10, 100)
    ]


def measure(calls, n: int, requests: int, warmup: int = 30) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Two passes over the same random ids.

    Interleaved: each round asks every contender in turn, so a noisy moment of the (shared,
    virtual) machine lands on all of them alike — but every server has sat idle for a few ms
    before its request, and waking an idle vCPU here costs 0.5-1 ms (the floor shows it).
    Back to back: each contender answers all its requests in a row, as a model server under
    steady load is asked; the servers stay awake.
    """
    rnd = random.Random(n)
    rounds = [rnd.sample(range(DRIVERS), n) for _ in range(warmup + requests)]
    interleaved: dict[str, list[float]] = {name: [] for name in calls}
    for k, ids in enumerate(rounds):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call(ids)
            if k >= warmup:
                interleaved[name].append((time.perf_counter() - t0) * 1000)
    in_a_row: dict[str, list[float]] = {name: [] for name in calls}
    for name, call in calls.items():
        for k, ids in enumerate(rounds):
            t0 = time.perf_counter()
            call(ids)
            if k >= warmup:
                in_a_row[name].append((time.perf_counter() - t0) * 1000)
    return {
        f"{name}{suffix}": _percentiles(xs)
        for suffix, samples in (("", interleaved), ("_in_a_row", in_a_row))
        for name, xs in samples.items()
    }


def _percentiles(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"p50": xs[len(xs) // 2], "p99": xs[min(len(xs) - 1, int(0.99 * len(xs)))]}


def table(results: list[dict], suffix: str) -> None:  # type: ignore[type-arg]
    print(
        "| case | HTTP floor | mlledger HTTP | feast serve (HTTP) | serve / mlledger p99 "
        "| mlledger in-process | Feast SDK (in-process) | SDK / mlledger in-process p99 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        m, i, s, f, z = (
            r[k + suffix]
            for k in ("mlledger", "mlledger_inproc", "feast_sdk", "feast_serve", "http_floor")
        )
        print(
            f"| {r['case']} | {z['p50']:.2f} / {z['p99']:.2f} | {m['p50']:.2f} / {m['p99']:.2f} "
            f"| {f['p50']:.2f} / {f['p99']:.2f} | {f['p99'] / m['p99']:.1f}x "
            f"| {i['p50']:.2f} / {i['p99']:.2f} | {s['p50']:.2f} / {s['p99']:.2f} "
            f"| {s['p99'] / i['p99']:.1f}x |"
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--database-url", required=True)
    p.add_argument("--admin-url", required=True)
    p.add_argument("--redis-url", required=True)
    p.add_argument("--requests", type=int, default=300)
    a = p.parse_args()

    engine = create_engine(a.admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "mlledger_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "mlledger_bench"'))
    engine.dispose()
    root = Path(tempfile.mkdtemp(prefix="featbench-"))
    repo = write_repo(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
    env |= {
        "MLLEDGER_DATABASE_URL": a.database_url,
        "MLLEDGER_REDIS_URL": a.redis_url,
        "MLLEDGER_HOME": str(root / "home"),
        "MLLEDGER_PROJECT": PROJECT,
        "MLLEDGER_FEATURES__DATA_ROOTS": json.dumps([str(root)]),
    }
    mll = [sys.executable, "-m", "mlledger.client"]
    subprocess.run([*mll, "db", "upgrade"], env=env, check=True, capture_output=True)

    from mlledger.store.features.engine import EngineConfig, repo_config

    config = repo_config(EngineConfig(a.database_url, a.redis_url, root / "home"), PROJECT)
    from feast import FeatureStore

    sdk = FeatureStore(config=config)
    feast_repo = root / "feast_serve"
    feast_repo.mkdir()
    (feast_repo / "feature_store.yaml").write_text(
        yaml.safe_dump(json.loads(config.model_dump_json(exclude_none=True, by_alias=True)))
    )

    cores = os.cpu_count() or 1
    server_cpu = cores - 1 if cores >= 2 else None
    if server_cpu is not None:
        os.sched_setaffinity(0, {0})
    port = free_port()
    ours = subprocess.Popen(
        [*pinned(server_cpu), *mll, "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The definitions go to the running server over HTTP, as CI would apply them.
    wait(f"http://127.0.0.1:{port}/api/v1/health", ours)
    env["MLLEDGER_URL"] = f"http://127.0.0.1:{port}"
    subprocess.run([*mll, "features", "apply", str(repo)], env=env, check=True, capture_output=True)
    start = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    end = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    subprocess.run(
        [*mll, "features", "materialize", "--start", start, "--end", end],
        env=env,
        check=True,
        capture_output=True,
    )
    fport = free_port()
    feast_bin = str(Path(sys.executable).parent / "feast")
    theirs = subprocess.Popen(
        [
            *pinned(server_cpu),
            *[feast_bin, "-c", str(feast_repo), "serve", "-h", "127.0.0.1", "-p", str(fport)],
            # Its default recycles the worker every ~1,000 requests: off, to time Feast at its best.
            *["--max-requests", "100000000", "--no-access-log"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    floor_port = free_port()
    floor = subprocess.Popen(
        [
            *pinned(server_cpu),
            *[sys.executable, "-m", "uvicorn", "floor:app", "--app-dir", str(HERE)],
            *["--port", str(floor_port), "--log-level", "warning"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update(env)
    from mlledger.service.app import create_app
    from mlledger.service.domain import features as feature_cases
    from mlledger.service.settings import Settings

    inproc_app = create_app(Settings())
    inproc = inproc_app.state.features.get()
    caller = inproc_app.state.authenticator.authenticate(None, PROJECT, local=True)
    # What is alive now (Feast, pandas, the app) stays: frozen, a full collection in this
    # process no longer pauses ~200 ms inside somebody's timing (`mlledger serve` does the same).
    gc.collect()
    gc.freeze()
    results = []
    try:
        wait(f"http://127.0.0.1:{port}/api/v1/health", ours)
        wait(f"http://127.0.0.1:{fport}/health", theirs)
        wait(f"http://127.0.0.1:{floor_port}/docs", floor)
        ours_http, theirs_http, floor_http = Http(port), Http(fport), Http(floor_port)
        for label, n, feats in cases():

            def mlledger_call(ids, feats=feats):  # type: ignore[no-untyped-def]
                return ours_http.post(
                    "/api/v1/features/online",
                    {"features": feats, "entities": {"driver_id": ids}},
                    {"X-Mlledger-Project": PROJECT},
                )

            def inproc_call(ids, feats=feats):  # type: ignore[no-untyped-def]
                return feature_cases.get_online(
                    inproc_app.state.db,
                    caller,
                    inproc,
                    features=feats,
                    feature_service=None,
                    entities={"driver_id": ids},
                )

            def sdk_call(ids, feats=feats):  # type: ignore[no-untyped-def]
                return sdk.get_online_features(
                    features=feats, entity_rows=[{"driver_id": i} for i in ids]
                ).to_dict()

            def serve_call(ids, feats=feats):  # type: ignore[no-untyped-def]
                return theirs_http.post(
                    "/get-online-features", {"features": feats, "entities": {"driver_id": ids}}
                )

            def floor_call(ids, feats=feats):  # type: ignore[no-untyped-def]
                return floor_http.post(
                    "/api/v1/features/online", {"features": feats, "entities": {"driver_id": ids}}
                )

            for attempt in range(50):  # a health check is not a served read
                try:
                    ours_answer = json.loads(mlledger_call([0]))
                    json.loads(serve_call([0]))
                    break
                except (OSError, http.client.HTTPException, AssertionError):
                    if attempt == 49:
                        raise
                    time.sleep(0.2)
            # Every way must answer with values, not NOT_FOUND.
            assert ours_answer["results"][1]["statuses"] == ["PRESENT"], ours_answer
            assert inproc_call([0]).statuses[1] == ["PRESENT"]
            assert sdk_call([0])[feats[0].split(":")[1]] != [None]
            row = {
                "case": label,
                **measure(
                    {
                        "mlledger": mlledger_call,
                        "mlledger_inproc": inproc_call,
                        "feast_sdk": sdk_call,
                        "feast_serve": serve_call,
                        "http_floor": floor_call,
                    },
                    n,
                    a.requests,
                ),
            }
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        for proc in (ours, theirs, floor):
            proc.terminate()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
    print("\nInterleaved (p50 / p99 ms)\n")
    table(results, "")
    print("\nBack to back (p50 / p99 ms)\n")
    table(results, "_in_a_row")


if __name__ == "__main__":
    main()
