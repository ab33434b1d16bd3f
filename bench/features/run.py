"""Online reads, three ways, on one Redis and one registry:

- mlledger: `POST /api/v1/features/online` on `mlledger serve` (one worker), over HTTP;
- Feast SDK: `FeatureStore.get_online_features` in this process (no HTTP at all);
- `feast serve`: Feast's own HTTP server, `POST /get-online-features`.

Cases: 1, 10 and 100 entities x 20 features of one view, and x 50 features of 5 views.
Each case: warm-up, then `--requests` timed requests with random entity ids; p50 and p99.
"""

from __future__ import annotations

import argparse
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


def measure(call, n: int, requests: int, warmup: int = 30) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rnd = random.Random(n)
    for _ in range(warmup):
        call(rnd.sample(range(DRIVERS), n))
    samples = []
    for _ in range(requests):
        ids = rnd.sample(range(DRIVERS), n)
        t0 = time.perf_counter()
        call(ids)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "p50": samples[len(samples) // 2],
        "p99": samples[min(len(samples) - 1, int(0.99 * len(samples)))],
    }


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
    }
    mll = [sys.executable, "-m", "mlledger.client"]
    subprocess.run([*mll, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*mll, "features", "apply", str(repo)], env=env, check=True, capture_output=True)
    start = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    end = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    subprocess.run(
        [*mll, "features", "materialize", "--start", start, "--end", end],
        env=env,
        check=True,
        capture_output=True,
    )

    from mlledger.store.features.engine import EngineConfig, repo_config

    config = repo_config(EngineConfig(a.database_url, a.redis_url, root / "home"), PROJECT)
    from feast import FeatureStore

    sdk = FeatureStore(config=config)
    feast_repo = root / "feast_serve"
    feast_repo.mkdir()
    (feast_repo / "feature_store.yaml").write_text(
        yaml.safe_dump(json.loads(config.model_dump_json(exclude_none=True, by_alias=True)))
    )

    port = free_port()
    ours = subprocess.Popen(
        [*mll, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fport = free_port()
    feast_bin = str(Path(sys.executable).parent / "feast")
    theirs = subprocess.Popen(
        [feast_bin, "-c", str(feast_repo), "serve", "-h", "127.0.0.1", "-p", str(fport)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = []
    try:
        wait(f"http://127.0.0.1:{port}/api/v1/health", ours)
        wait(f"http://127.0.0.1:{fport}/health", theirs)
        http = httpx.Client(timeout=30)
        for label, n, feats in cases():

            def mlledger_call(ids, feats=feats):  # type: ignore[no-untyped-def]
                r = http.post(
                    f"http://127.0.0.1:{port}/api/v1/features/online",
                    json={"features": feats, "entities": {"driver_id": ids}},
                    headers={"X-Mlledger-Project": PROJECT},
                )
                assert r.status_code == 200, r.text
                assert r.json()["results"][1]["statuses"][0] == "PRESENT"

            def sdk_call(ids, feats=feats):  # type: ignore[no-untyped-def]
                sdk.get_online_features(
                    features=feats, entity_rows=[{"driver_id": i} for i in ids]
                ).to_dict()

            def serve_call(ids, feats=feats):  # type: ignore[no-untyped-def]
                r = http.post(
                    f"http://127.0.0.1:{fport}/get-online-features",
                    json={"features": feats, "entities": {"driver_id": ids}},
                )
                assert r.status_code == 200, r.text

            for call in (mlledger_call, serve_call):  # a health check is not a served read
                for attempt in range(50):
                    try:
                        call([0])
                        break
                    except (httpx.TransportError, AssertionError):
                        if attempt == 49:
                            raise
                        time.sleep(0.2)
            row = {"case": label}
            for name, call in (
                ("mlledger", mlledger_call),
                ("feast_sdk", sdk_call),
                ("feast_serve", serve_call),
            ):
                row[name] = measure(call, n, a.requests)
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        ours.terminate()
        theirs.terminate()
        ours.wait()
        theirs.wait()
        shutil.rmtree(root, ignore_errors=True)
    print()
    print(
        "| case | mlledger HTTP p50 / p99 ms | Feast SDK p50 / p99 ms "
        "| feast serve p50 / p99 ms | p99 ratio vs SDK / serve |"
    )
    print("|---|---|---|---|---|")
    for r in results:
        m, s, f = r["mlledger"], r["feast_sdk"], r["feast_serve"]
        print(
            f"| {r['case']} | {m['p50']:.2f} / {m['p99']:.2f} | {s['p50']:.2f} / {s['p99']:.2f} "
            f"| {f['p50']:.2f} / {f['p99']:.2f} "
            f"| {s['p99'] / m['p99']:.1f}x / {f['p99'] / m['p99']:.1f}x |"
        )


if __name__ == "__main__":
    main()
