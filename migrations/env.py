"""Alembic environment: uses the connection handed over by `mlledger.migrations.upgrade`,
or opens one from the configured URL (the `alembic` command line)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from mlledger.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "migrations.config() sets sqlalchemy.url"
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
