"""Feast's SQL registry as the service uses it: each project's store reads its own project
only, and all of them share one connection pool — so an apply, a materialization or a
snapshot costs the same with one project in the database or with hundreds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from feast import Entity
from feast.value_type import ValueType
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from mlledger.store.features.engine import EngineConfig, Engines
from mlledger.store.features.registry import ProjectSqlRegistry


@pytest.fixture
def engines(services: dict[str, str], tmp_path: Path) -> Iterator[Engines]:
    """Engines on a Postgres database of the test's own: the SQL registry is Postgres' (the
    embedded default keeps one registry file), so these tests are not run per database."""
    url = make_url(services["postgres"])
    name = f"scope_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield Engines(
            EngineConfig(
                database_url=url.set(database=name).render_as_string(hide_password=False),
                redis_url=None,
                home=tmp_path,
            )
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _project(engines: Engines) -> str:
    name = f"scope_{uuid.uuid4().hex[:10]}"
    store = engines.get(name)
    store.apply([Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)])
    return name


def _statements_of_a_refresh(engines: Engines, project: str) -> int:
    registry = engines.get(project).registry
    assert isinstance(registry, ProjectSqlRegistry)
    count = 0

    def seen(*_: object) -> None:
        nonlocal count
        count += 1

    event.listen(registry.read_engine, "before_cursor_execute", seen)
    try:
        registry.refresh()
    finally:
        event.remove(registry.read_engine, "before_cursor_execute", seen)
    return count


def test_a_store_reads_its_own_project_only(engines: Engines) -> None:
    mine, other = _project(engines), _project(engines)
    store = engines.get(mine)
    store.refresh_registry()
    proto = store.registry.cached_registry_proto
    assert [p.spec.name for p in proto.projects] == [mine]
    assert {e.spec.project for e in proto.entities} == {mine}
    assert [e.name for e in store.list_entities()] == ["driver"]
    assert other not in {p.spec.name for p in proto.projects}


def test_a_refresh_costs_the_same_however_many_projects_exist(engines: Engines) -> None:
    mine = _project(engines)
    before = _statements_of_a_refresh(engines, mine)
    for _ in range(4):
        _project(engines)
    assert _statements_of_a_refresh(engines, mine) == before


def test_all_projects_share_one_pool(engines: Engines) -> None:
    a, b = _project(engines), _project(engines)
    first, second = engines.get(a).registry, engines.get(b).registry
    assert isinstance(first, ProjectSqlRegistry) and isinstance(second, ProjectSqlRegistry)
    assert first.write_engine is second.write_engine is second.read_engine
