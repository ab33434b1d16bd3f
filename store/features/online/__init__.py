"""Online reads: one contract (contract.py), the registry snapshot it reads by (snapshot.py),
Feast's key/value codec (codec.py), and one module per backend — Redis directly in Feast's
layout (redis_store.py, the fast path) and any other Feast online store through its SDK
(feast_store.py). To add a backend: a class with `reads_generation` and `read`, chosen in
service/wiring.py, and a row in tests/features/test_online_contract.py."""

from .contract import (
    NOT_FOUND,
    OUTSIDE_MAX_AGE,
    PRESENT,
    OnlineResult,
    OnlineStore,
    check_entities,
    resolve,
)
from .feast_store import FeastOnline, read_feast
from .redis_store import RedisOnline, hmget_many, read_redis
from .snapshot import Snapshot, Snapshots, ViewSpec, take_snapshot

__all__ = [
    "NOT_FOUND",
    "OUTSIDE_MAX_AGE",
    "PRESENT",
    "FeastOnline",
    "OnlineResult",
    "OnlineStore",
    "RedisOnline",
    "Snapshot",
    "Snapshots",
    "ViewSpec",
    "check_entities",
    "hmget_many",
    "read_feast",
    "read_redis",
    "resolve",
    "take_snapshot",
]
