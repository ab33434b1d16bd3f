"""Point-in-time training sets: mlledger (DuckDB ASOF JOIN) beside Feast 0.67's file (Dask)
offline store, on the same Parquet and the same entity rows.

Default scale: 10,000,000 feature rows (100,000 drivers x 100 hourly values of 5 float
features) and 1,000,000 entity rows at random drivers and times. Each contender runs in its
own process (`--contender`), so that its peak memory (ru_maxrss) is its own; the parent prints
wall time, peak RSS, rows returned and a side-by-side table.

    bench/features/offline.sh [--scale 0.1]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = [f"f{i}" for i in range(5)]
END = datetime(2026, 11, 1, tzinfo=UTC)


def generate(root: Path, scale: float) -> None:
    drivers = int(100_000 * scale)
    per_driver = 100
    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(drivers, dtype="int64"), per_driver)
    hours = np.tile(np.arange(per_driver), drivers)
    ts = pd.Timestamp(END) - pd.to_timedelta(hours, unit="h")
    source = pd.DataFrame({"driver_id": ids, "event_timestamp": ts, "created": ts})
    for name in FEATURES:
        source[name] = rng.random(len(source), dtype="float32")
    source.to_parquet(root / "features.parquet", row_group_size=1_000_000)
    n = int(1_000_000 * scale)
    entities = pd.DataFrame(
        {
            "driver_id": rng.integers(0, drivers, n),
            # Up to 110 hours back: some rows fall before a driver's first value (nulls).
            "event_timestamp": pd.Timestamp(END)
            - pd.to_timedelta(rng.integers(0, 110 * 3600, n), unit="s"),
            "label": rng.integers(0, 2, n),
        }
    )
    entities.to_parquet(root / "entities.parquet")


def store(root: Path):  # type: ignore[no-untyped-def]
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, RepoConfig
    from feast.types import Float32
    from feast.value_type import ValueType

    config = RepoConfig(
        project="offbench",
        provider="local",
        registry={"registry_type": "file", "path": str(root / "registry.db")},
        online_store={"type": "sqlite", "path": str(root / "online.db")},
        offline_store={"type": "file"},
        entity_key_serialization_version=3,
        repo_path=root,
    )
    fs = FeatureStore(config=config)
    driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
    view = FeatureView(
        name="stats",
        entities=[driver],
        ttl=timedelta(hours=24),
        schema=[Field(name=f, dtype=Float32) for f in FEATURES],
        source=FileSource(
            name="stats_source",
            path=str(root / "features.parquet"),
            timestamp_field="event_timestamp",
            created_timestamp_column="created",
        ),
    )
    fs.apply([driver, view])
    return fs


def contender(name: str, root: Path) -> dict[str, float]:
    fs = store(root)
    entities = pd.read_parquet(root / "entities.parquet")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if name == "mlledger":
        from mlledger.store.features import offline

        out = root / "mlledger.parquet"
        offline.historical(fs, entities, [("stats", f) for f in FEATURES], out=out)
        import pyarrow.parquet as pq

        rows = pq.read_metadata(out).num_rows
    else:
        frame = fs.get_historical_features(
            entity_df=entities, features=[f"stats:{f}" for f in FEATURES]
        ).to_df()
        frame.to_parquet(root / "feast.parquet")
        rows = len(frame)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "peak_rss_mib": peak / 1024,
        "rss_before_join_mib": before / 1024,
        "rows": rows,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--contender", choices=["mlledger", "feast"])
    p.add_argument("--root")
    p.add_argument("--timeout", type=float, default=3600)
    a = p.parse_args()
    if a.contender:
        print(json.dumps(contender(a.contender, Path(a.root))))
        return
    with tempfile.TemporaryDirectory(prefix="offbench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        generate(root, a.scale)
        print(f"data generated in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        results: dict[str, dict[str, float] | str] = {}
        for name in ("mlledger", "feast"):
            try:
                done = subprocess.run(
                    [sys.executable, __file__, "--contender", name, "--root", str(root)],
                    capture_output=True,
                    text=True,
                    timeout=a.timeout,
                )
            except subprocess.TimeoutExpired:
                results[name] = f"no answer within {a.timeout:.0f} s"
                continue
            if done.returncode != 0:
                results[name] = f"failed (exit {done.returncode}): {done.stderr[-500:]}"
            else:
                results[name] = json.loads(done.stdout.strip().splitlines()[-1])
            print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    entity_rows, feature_rows = int(1_000_000 * a.scale), int(100_000 * a.scale) * 100
    print(f"\n{entity_rows:,} entity rows x {feature_rows:,} feature rows, 5 features, TTL 24 h\n")
    print("| contender | wall time s | peak RSS MiB (before the join) | rows returned |")
    print("|---|---|---|---|")
    for name, r in results.items():
        if isinstance(r, str):
            print(f"| {name} | {r} | | |")
        else:
            print(
                f"| {name} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} "
                f"({r['rss_before_join_mib']:.0f}) | {r['rows']:,} |"
            )


if __name__ == "__main__":
    main()
