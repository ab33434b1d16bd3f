"""Any online store Feast has (the embedded default's SQLite), through Feast's SDK, with the
same TTL rule applied afterwards and the same answers as the Redis fast path."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from feast import FeatureStore

from .codec import encode_value, seconds_of
from .contract import NOT_FOUND, OUTSIDE_MAX_AGE, PRESENT, OnlineResult, check_entities
from .snapshot import Snapshot


class FeastOnline:
    """Reads through `FeatureStore.get_online_features`; the generation is not read here (the
    caller checks it before: one `stat` of the generation file)."""

    reads_generation = False

    def read(
        self,
        store: FeatureStore,
        snap: Snapshot,
        refs: list[tuple[str, str]],
        entities: dict[str, list[Any]],
        *,
        max_entities: int,
        now: float | None = None,
    ) -> tuple[OnlineResult, str | None]:
        return read_feast(store, snap, refs, entities, max_entities=max_entities, now=now), None


def read_feast(
    store: FeatureStore,
    snap: Snapshot,
    refs: list[tuple[str, str]],
    entities: dict[str, list[Any]],
    *,
    max_entities: int,
    now: float | None = None,
) -> OnlineResult:
    """Any online store, through Feast's SDK, with the same TTL rule applied afterwards."""
    n = check_entities(snap, refs, entities, max_entities)
    for view, _ in refs:
        spec = snap.views[view]
        for k in spec.join_keys:
            for v in entities[k]:
                encode_value(k, spec.key_types[k], v)
    rows = [{k: v[i] for k, v in entities.items()} for i in range(n)]
    answer = store.get_online_features(
        features=[f"{v}:{f}" for v, f in refs], entity_rows=rows, full_feature_names=True
    ).to_dict(include_event_timestamps=True)
    now = time.time() if now is None else now
    names = list(entities) + [f"{v}:{f}" for v, f in refs]
    values: list[list[Any]] = [list(entities[k]) for k in entities]
    statuses: list[list[str]] = [[PRESENT] * n for _ in entities]
    stamps: list[list[str | None]] = [[None] * n for _ in entities]
    for view, name in refs:
        spec = snap.views[view]
        column = answer[f"{view}__{name}"]
        ts_column = answer.get(f"{view}__{name}__ts", [None] * n)
        vals: list[Any] = []
        stats: list[str] = []
        iso: list[str | None] = []
        for v, ts in zip(column, ts_column, strict=True):
            seconds = seconds_of(ts)
            iso.append(
                None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()
            )
            if v is None:
                vals.append(None)
                stats.append(NOT_FOUND)
            elif spec.ttl_seconds > 0 and seconds is not None and now - seconds > spec.ttl_seconds:
                vals.append(None)
                stats.append(OUTSIDE_MAX_AGE)
            else:
                vals.append(v)
                stats.append(PRESENT)
        values.append(vals)
        statuses.append(stats)
        stamps.append(iso)
    return OnlineResult(names, values, statuses, stamps)
