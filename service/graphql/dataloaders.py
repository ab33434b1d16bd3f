"""Per-request dataloaders: every nested field is batched into one SQL statement per level.

Each batch runs the blocking store call in a worker thread with its own short read session, so
loaders that fire in the same tick never share a session across threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from strawberry.dataloader import DataLoader

from mlledger.store.data_gates import gates
from mlledger.store.database import Database
from mlledger.store.entities import (
    Artifact,
    Context,
    Evaluation,
    Event,
    Execution,
    Gate,
    LatestMetric,
    ModelVersion,
    Run,
)
from mlledger.store.metadata import artifacts, contexts, events, executions
from mlledger.store.registry import blessings, models
from mlledger.store.tracking import metrics, runs

from ..domain import lineage, verdicts
from ..domain.principal import Principal

K = TypeVar("K")
V = TypeVar("V")


class Loaders:
    def __init__(self, db: Database, who: Principal) -> None:
        self._db = db
        project = who.project_id
        self.artifact: DataLoader[int, Artifact | None] = self._loader(
            lambda s, ids: _in_order(ids, artifacts.get_many(s, project, ids))
        )
        self.execution: DataLoader[int, Execution | None] = self._loader(
            lambda s, ids: _in_order(ids, executions.get_many(s, project, ids))
        )
        self.context: DataLoader[int, Context | None] = self._loader(
            lambda s, ids: _in_order(ids, contexts.get_many(s, project, ids))
        )
        self.events_of_artifact: DataLoader[int, list[Event]] = self._loader(
            lambda s, ids: _grouped(ids, events.of_artifacts(s, ids), lambda e: e.artifact_id)
        )
        self.events_of_execution: DataLoader[int, list[Event]] = self._loader(
            lambda s, ids: _grouped(ids, events.of_executions(s, ids), lambda e: e.execution_id)
        )
        self.contexts_of_artifact: DataLoader[int, list[Context]] = self._loader(
            lambda s, ids: _as_list(ids, contexts.for_artifacts(s, ids))
        )
        self.contexts_of_execution: DataLoader[int, list[Context]] = self._loader(
            lambda s, ids: _as_list(ids, contexts.for_executions(s, ids))
        )
        self.run: DataLoader[int, Run | None] = self._loader(
            lambda s, ids: _in_order(ids, runs.get_many(s, project, ids))
        )
        self.latest_metrics: DataLoader[int, list[LatestMetric]] = self._loader(
            lambda s, ids: _as_list(ids, metrics.latest(s, ids))
        )
        self.versions_of_artifact: DataLoader[int, list[ModelVersion]] = self._loader(
            lambda s, ids: _as_list(ids, models.versions_of_artifacts(s, project, ids))
        )

        self.data_gate: DataLoader[int, Gate | None] = self._loader(
            lambda s, ids: _in_order(ids, gates.get_many(s, project, ids))
        )
        self.newest_evaluation: DataLoader[int, Evaluation | None] = self._loader(
            lambda s, ids: _in_order(ids, blessings.newest_of_versions(s, ids))
        )
        self.training_datasets: DataLoader[int, list[Artifact]] = self._loader(
            lambda s, ids: _as_list(ids, verdicts.training_datasets_of(s, project, ids))
        )
        self.model_state: DataLoader[int, str | None] = self._loader(
            lambda s, ids: _in_order(ids, lineage.model_statuses(s, project, ids))
        )

    def _loader(self, fetch: Callable[[Session, list[Any]], list[Any]]) -> DataLoader[Any, Any]:
        async def load(keys: list[Any]) -> list[Any]:
            return await asyncio.to_thread(self._run, fetch, list(keys))

        return DataLoader(load_fn=load)

    def _run(self, fetch: Callable[[Session, list[Any]], list[Any]], keys: list[Any]) -> list[Any]:
        with self._db.read() as session:
            return fetch(session, keys)


def _in_order(keys: Sequence[K], found: dict[K, V]) -> list[V | None]:
    return [found.get(k) for k in keys]


def _as_list(keys: Sequence[K], found: dict[K, list[V]]) -> list[list[V]]:
    return [found.get(k, []) for k in keys]


def _grouped(keys: Sequence[K], items: Sequence[V], key: Callable[[V], K]) -> list[list[V]]:
    out: dict[K, list[V]] = {k: [] for k in keys}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return [out[k] for k in keys]
