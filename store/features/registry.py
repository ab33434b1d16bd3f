"""Feast's SQL registry, scoped to the one Feast project a `FeatureStore` serves.

The service builds one `FeatureStore` per project (engine.Engines). Feast's `SqlRegistry`
refreshes its cache by reading every project in the database, ten queries each, and opens a
connection pool per instance: with many projects, each apply, materialization and snapshot
paid for all of them (an apply took seconds once a few dozen projects existed), and the pools
together could exhaust Postgres's connections. This registry reads only its own project and
shares one pool per database among all projects.
"""

from __future__ import annotations

import threading
from typing import Any

from feast import FeatureStore
from feast.infra.registry.base_registry import BaseRegistry
from feast.infra.registry.sql import SqlRegistry
from feast.project import Project
from sqlalchemy import Engine, create_engine

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _shared_engine(url: str, options: dict[str, Any]) -> Engine:
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = create_engine(url, **options)
        return engine


class ProjectSqlRegistry(SqlRegistry):
    """A `SqlRegistry` whose cache holds one project: `proto()` (what a refresh reads) lists
    projects through `_list_projects`, narrowed here to this registry's own."""

    def __init__(self, registry_config: Any, project: str) -> None:
        self.own_project = project  # before Feast's constructor, which reads the cache
        super().__init__(registry_config, project, None)
        own = self.write_engine
        self.write_engine = self.read_engine = _shared_engine(
            registry_config.path, dict(registry_config.sqlalchemy_config_kwargs)
        )
        if own is not self.write_engine:
            own.dispose()  # the pool Feast opened for this instance alone

    def _list_projects(self, tags: dict[str, str] | None) -> list[Project]:
        return [p for p in super()._list_projects(tags) if p.name == self.own_project]


class ProjectFeatureStore(FeatureStore):
    """A `FeatureStore` on `ProjectSqlRegistry` when the registry is SQL (Feast builds its
    registry in `_create_registry`, its one hook for that); the file registry is unchanged —
    it is one file, read whole in any case."""

    def _create_registry(self) -> BaseRegistry:
        if self.config.registry.registry_type == "sql":
            return ProjectSqlRegistry(self.config.registry, self.config.project)
        return super()._create_registry()
