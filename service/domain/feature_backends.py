"""The backends the feature use cases (features.py) run on, as one object."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feast import FeatureStore

from mlledger.store.database import Database
from mlledger.store.features import online
from mlledger.store.features.engine import Engines
from mlledger.store.features.generation import Generations
from mlledger.store.features.served import ServedLog
from mlledger.store.metadata import projects
from mlledger.validation.reading import DataRoots

from .principal import Principal


@dataclass
class FeatureBackends:
    """What the feature use cases need, built once by the composition root (service/wiring.py):
    Feast's stores, the registry snapshots and generations, the online reader. Not Feast's
    `FeatureService` (a named set of features), which the definitions declare."""

    engines: Engines
    snapshots: online.Snapshots
    generations: Generations
    reader: online.OnlineStore  # the backend of online reads (store/features/online/)
    redis: Any | None  # the Redis (or RedisCluster) client, when there is one
    datasets: Path
    data_roots: DataRoots  # where feature sources may point (features.data_roots)
    max_entities: int
    served: ServedLog | None = None  # sampled served vectors, for the skew check
    _feast_names: dict[int, str] = field(default_factory=dict)
    _applying: threading.Lock = field(default_factory=threading.Lock)

    def store(self, db: Database, who: Principal) -> FeatureStore:
        """The project's Feast store; its Feast name is read once per process (it never
        changes once recorded), so the online path pays no database round trip for it."""
        name = self._feast_names.get(who.project_id)
        if name is None:
            with db.write() as session:
                name = projects.feast_project(session, who.project_id)
            self._feast_names[who.project_id] = name
        return self.engines.get(name)

    def snapshot(self, store: FeatureStore, *, refresh: bool = False) -> online.Snapshot:
        """The registry snapshot at the current generation: after an apply in any process,
        the next request here reads the new definitions."""
        generation = self.generations.current(store.project)
        return self.snapshots.get(store, generation, refresh=refresh)
