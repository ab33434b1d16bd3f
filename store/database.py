"""Engines and the unit of work.

Repositories only flush; `Database.write()` commits once at the end of a request or job, so a
lineage write (execution + artifacts + events + contexts) is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_WRITE = "mlledger_write"


def _configure_sqlite(engine: Engine) -> None:
    """Make SQLite safe under concurrent writers.

    pysqlite opens transactions lazily with a deferred BEGIN; two deferred writers that both read
    first deadlock on the upgrade to a write lock and one fails at once, whatever the timeout.
    Taking the write lock up front (BEGIN IMMEDIATE) for write units makes them queue instead,
    while read units keep a plain BEGIN and, in WAL mode, never block on writers.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # LIKE is case-sensitive, as on Postgres (search's `like`; `ilike` folds case itself).
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_WRITE, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        # Read units run statement by statement (see Database), like Postgres below.


def create_db_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """Create an engine for `url`; for SQLite, create the parent folder of the file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # psycopg prepares a statement run five times on a connection, and Postgres then may
        # plan it once for any parameters. Search's statements are the same text for every
        # filter value, and the right plan depends on the value (a rare state walks a metric's
        # range, a common one the runs): with the generic plan, `attributes.state = 'failed'
        # and metrics.precision >= 0.99` went from 28 to 88 ms after the tenth request.
        # No parallel workers: the service answers pages (a LIMIT reached early), where
        # starting and gathering workers costs more than it saves and takes the cores other
        # requests are waiting for (at 1M runs, the same search's p95 doubled with them).
        connect_args={
            "options": "-c plan_cache_mode=force_custom_plan -c max_parallel_workers_per_gather=0"
        },
    )


class Database:
    """Hands out sessions: read units and write units (which commit once, or roll back).

    Read units run in autocommit: under Postgres' READ COMMITTED every statement takes its own
    snapshot inside a transaction too, so BEGIN/ROLLBACK would only add two round trips to
    every read. A read that must see one snapshot across statements should use a write unit.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        reads = (
            engine
            if self.dialect == "sqlite"
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._read = sessionmaker(bind=reads, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(
            bind=engine.execution_options(**{_WRITE: True}),
            expire_on_commit=False,
            autoflush=False,
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> str:
        """ "ok", or the error's type: what a readiness probe reports (it never raises)."""
        try:
            with self.read() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:
            return f"error: {type(exc).__name__}"
        return "ok"

    def dispose(self) -> None:
        self.engine.dispose()
