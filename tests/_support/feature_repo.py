"""A small Feast repo written by the tests: drivers with hourly stats, one TTL'd view, a push
source and a feature service."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

DEFINITIONS = """
from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, PushSource
from feast.types import Float32, Int64, String
from feast.value_type import ValueType

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)

stats_source = FileSource(
    name="driver_stats_source",
    path="{data}",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
stats_push = PushSource(name="driver_stats_push", batch_source=stats_source)

driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(hours={ttl_hours}),
    schema=[
        Field(name="conv_rate", dtype=Float32),
        Field(name="acc_rate", dtype=Float32),
        Field(name="avg_daily_trips", dtype=Int64),
        Field(name="city", dtype=String),
    ],
    online=True,
    source=stats_push,
)

driver_activity = FeatureService(name="driver_activity", features=[driver_hourly_stats])
"""


def driver_frame(drivers: list[int], hours: int, end: datetime, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in drivers:
        for h in range(hours):
            ts = end - timedelta(hours=h)
            rows.append(
                {
                    "driver_id": d,
                    "event_timestamp": ts,
                    "created": ts,
                    "conv_rate": float(np.float32(rng.random())),
                    "acc_rate": float(np.float32(rng.random())),
                    "avg_daily_trips": int(rng.integers(0, 1000)),
                    "city": f"city-{d % 7}",
                }
            )
    frame = pd.DataFrame(rows)
    frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    return frame


def write_repo(root: Path, frame: pd.DataFrame, ttl_hours: int = 2) -> Path:
    repo = root / "feature_repo"
    repo.mkdir(parents=True, exist_ok=True)
    data = root / "driver_stats.parquet"
    frame.to_parquet(data)
    (repo / "definitions.py").write_text(DEFINITIONS.format(data=data, ttl_hours=ttl_hours))
    return repo


DRIVERS = [1001, 1002, 1003, 1004]


def apply_repo(db, who, svc, repo: Path) -> dict:  # type: ignore[no-untyped-def]
    """What `mlledger features apply` does, in process: the client reads the repo, the
    domain applies its definitions."""
    from mlledger.client.feast_repo import registry_of
    from mlledger.service.domain import features

    return features.apply(db, who, svc, registry_of(repo), str(repo))
