"""Alembic is the only way the schema is made: upgrading an empty database gives exactly the
models (what `alembic check` verifies), on SQLite and on Postgres, and downgrades work."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from mlledger import migrations
from mlledger.store.database import create_db_engine
from mlledger.store.tables import Base


@pytest.fixture
def empty_url(database_url: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:  # a developer's Postgres keeps no database per test run
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_light_start_up_check_agrees_with_alembic():
    """`head` reads the revision files without alembic (start-up time): it must be alembic's."""
    alembic_head = ScriptDirectory.from_config(migrations.config("sqlite://")).get_current_head()
    assert migrations.head() == alembic_head is not None


def test_upgrade_from_empty_matches_the_models(empty_url: str):
    engine = create_db_engine(empty_url)
    assert migrations.current(engine) is None
    migrations.upgrade(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == migrations.head()
    assert migrations.current(engine) == migrations.head()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    migrations.upgrade(engine)  # idempotent
    engine.dispose()


def test_downgrade_and_upgrade_again(empty_url: str):
    engine = create_db_engine(empty_url)
    migrations.upgrade(engine)
    migrations.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(engine)
    assert "artifact" in inspect(engine).get_table_names()
    engine.dispose()


def test_search_tables_are_filled_from_runs_written_before_them(empty_url: str) -> None:
    """0007-0009 on a database with runs: a NaN latest metric becomes NULL, the latest values
    learn their run's experiment, and params and tags are copied into `run_field`."""
    from mlledger.store.database import Database
    from mlledger.store.tracking import metrics, runs
    from mlledger.store.tracking.runs import NewRun

    engine = create_db_engine(empty_url)
    migrations.upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO project (id, name, created_at) VALUES (1, 'p', :t)"),
            {"t": "2026-01-01"},
        )
    engine.dispose()
    engine = create_db_engine(empty_url)
    migrations.upgrade(engine)
    db = Database(engine)
    with db.write() as session:
        run, _ = runs.create(
            session,
            1,
            NewRun(
                uuid="u-1", experiment="e", name="r", params={"lr": "0.1"}, tags={"team": "risk"}
            ),
        )
        metrics.insert(session, run.id, ["auc"], [float("nan")], [0], [1], experiment_id=None)
    # As a database written before 0007: no run_field rows, no experiment, a NaN on Postgres.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM run_field"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("UPDATE metric_latest SET value = 'NaN'::float8"))
    migrations.downgrade(engine, "0006")
    migrations.upgrade(engine)
    with engine.connect() as conn:
        fields = conn.execute(
            text("SELECT section, key, head, value FROM run_field ORDER BY section, key")
        ).all()
        latest = conn.execute(text("SELECT experiment_id, value FROM metric_latest")).one()
    assert [tuple(f) for f in fields] == [
        ("params", "lr", "0.1", "0.1"),
        ("tags", "team", "risk", "risk"),
    ]
    assert latest == (run.experiment_id, None)
    engine.dispose()


def test_points_written_before_chunks_read_back_the_same(empty_url: str) -> None:
    """0010 packs `metric` rows into chunks (10,000 points each, in step order, SQLite's NULL
    read as NaN) and its downgrade unpacks them: the history is the same on both sides."""
    from mlledger.store.database import Database
    from mlledger.store.tracking import metrics

    engine = create_db_engine(empty_url)
    migrations.upgrade(engine, "0009")
    nan_stored = None if engine.dialect.name == "sqlite" else float("nan")
    # 12,345 points of "loss" written out of step order, plus one NaN, and a second key.
    steps = list(range(12_345))
    steps.reverse()
    rows = [{"e": 7, "k": "loss", "s": s, "t": 1000 + s, "v": s / 2} for s in steps]
    rows.append({"e": 7, "k": "auc", "s": 3, "t": 5, "v": nan_stored})
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO metric (execution_id, "key", step, "timestamp", value) '
                "VALUES (:e, :k, :s, :t, :v)"
            ),
            rows,
        )
    migrations.upgrade(engine)
    db = Database(engine)
    with db.read() as session:
        loss = metrics.history(session, 7, "loss", max_points=100_000)
        auc = metrics.history(session, 7, "auc", max_points=10)
        sizes = session.execute(
            text("SELECT points FROM metric_chunk WHERE \"key\" = 'loss' ORDER BY first_step")
        ).scalars()
        assert list(sizes) == [10_000, 2_345]
    assert loss.steps == list(range(12_345))
    assert loss.timestamps == [1000 + s for s in range(12_345)]
    assert loss.values == [s / 2 for s in range(12_345)]
    assert auc.steps == [3] and auc.values[0] != auc.values[0]  # NaN

    migrations.downgrade(engine, "0009")
    with engine.connect() as conn:
        back = conn.execute(
            text("SELECT step, value FROM metric WHERE \"key\" = 'loss' ORDER BY step")
        ).all()
        nan = conn.execute(text("SELECT value FROM metric WHERE \"key\" = 'auc'")).scalar_one()
    assert [tuple(r) for r in back] == [(s, s / 2) for s in range(12_345)]
    assert nan is None if engine.dialect.name == "sqlite" else nan != nan
    engine.dispose()
