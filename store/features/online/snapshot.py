"""The registry as the online path reads it: per view its join keys and their types, its
features with their Redis field names, its TTL; per feature service its (view, feature) pairs.
Taken from Feast's registry and cached per project until the definitions' generation moves
(generation.py) or `max_age` passes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from feast import FeatureStore
from feast.infra.online_stores.helpers import _mmh3


@dataclass(frozen=True, slots=True)
class ViewSpec:
    name: str
    join_keys: tuple[str, ...]  # sorted, as the entity key serializes them
    key_types: dict[str, int]  # join key -> ValueType
    features: tuple[str, ...]
    ttl_seconds: float
    ts_field: bytes = b""
    fields: dict[str, bytes] = field(default_factory=dict)  # feature -> mmh3 field name


@dataclass(frozen=True, slots=True)
class Snapshot:
    project: str
    views: dict[str, ViewSpec]
    services: dict[str, list[tuple[str, str]]]
    taken: float
    generation: str | None = None  # of the definitions it was taken at (generation.py)


def take_snapshot(
    store: FeatureStore, *, allow_cache: bool = True, generation: str | None = None
) -> Snapshot:
    entities = {e.name: e for e in store.list_entities(allow_cache=allow_cache)}
    views: dict[str, ViewSpec] = {}
    for fv in store.list_feature_views(allow_cache=allow_cache):
        key_types = {}
        for entity_name in fv.entities:
            entity = entities.get(entity_name)
            if entity is None or entity.name == "__dummy":
                continue
            key_types[entity.join_key] = int(entity.value_type.value)
        views[fv.name] = ViewSpec(
            name=fv.name,
            join_keys=tuple(sorted(key_types)),
            key_types=key_types,
            features=tuple(f.name for f in fv.features),
            ttl_seconds=fv.ttl.total_seconds() if fv.ttl else 0.0,
            ts_field=f"_ts:{fv.name}".encode(),
            fields={f.name: _mmh3(f"{fv.name}:{f.name}") for f in fv.features},
        )
    services = {
        s.name: [(p.name_to_use(), f.name) for p in s.feature_view_projections for f in p.features]
        for s in store.registry.list_feature_services(store.project, allow_cache=allow_cache)
    }
    return Snapshot(store.project, views, services, time.monotonic(), generation)


class Snapshots:
    """Registry snapshots per project: re-read when the definitions' generation moved (an
    apply, in any process), and after `max_age` seconds in any case."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._cache: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def peek(self, project: str) -> Snapshot | None:
        return self._cache.get(project)

    def get(
        self, store: FeatureStore, generation: str | None, *, refresh: bool = False
    ) -> Snapshot:
        """The snapshot at `generation` (the current one: `Generations.current`)."""
        snap = self._cache.get(store.project)
        moved = snap is not None and snap.generation != generation
        if refresh or moved or snap is None or time.monotonic() - snap.taken > self.max_age:
            if refresh or moved:
                # Feast's own registry cache lags an apply made elsewhere: re-read it too, so
                # materialization and training sets see the same definitions.
                store.refresh_registry()
            snap = take_snapshot(store, generation=generation)
            with self._lock:
                self._cache[store.project] = snap
        return snap
