"""Bulk row writes for the high-volume paths (batched lineage writes, the audit log).

Postgres: ids are taken from the table's sequence in one round trip, then the rows are streamed
with COPY — an order of magnitude cheaper than INSERT ... RETURNING with thousands of bound
parameters. Elsewhere (SQLite, in-process): one multi-row INSERT ... RETURNING id.

Rows must be complete (every non-null column, timestamps included): COPY applies no Python-side
defaults.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import JSON, Table, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")

# Bound parameters per statement stay far below SQLite's 32,766 and Postgres' 65,535.
CHUNK = 5000


def table_of(row: type[Any]) -> Table:
    """A mapped class's Core table, typed as one (SQLAlchemy's stubs say `FromClause`): the
    bulk paths write through Core, never the ORM's bulk insert, which splits a batch by the
    pattern of NULLs in its rows."""
    table = row.__table__
    assert isinstance(table, Table)
    return table


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Slices of `items` small enough for one statement's parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dialect_insert(session: Session) -> Callable[..., Any]:
    """The INSERT construct of the session's dialect, for ON CONFLICT clauses."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (all with the same keys) and return their new ids, in order."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _copy(session, table, rows)
    result = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
    )
    return [row[0] for row in result]


def _copy(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    ids = (
        session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": len(rows)},
        )
        .scalars()
        .all()
    )
    columns = list(rows[0])
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    raw = session.connection().connection.driver_connection
    assert raw is not None  # a checked-out connection has its driver's
    quoted = ", ".join(f'"{c}"' for c in ["id", *columns])
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for new_id, row in zip(ids, rows, strict=True):
            # COPY's text format parses JSON text into jsonb itself: no adapter object per value.
            copy.write_row(
                [new_id, *(_json(row[c]) if c in json_columns else row[c] for c in columns)]
            )
    return list(ids)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return "{}" if value == {} else json.dumps(value, separators=(",", ":"))


def by_ids(session: Session, row_type: Any, project_id: int, ids: Sequence[int]) -> dict[int, Any]:
    """Rows of `row_type` with these ids in the project (others' ids are simply absent), in as
    few IN statements as the parameter limits allow."""
    found: dict[int, Any] = {}
    for part in chunks(sorted(set(ids))):
        rows = session.scalars(
            select(row_type).where(row_type.id.in_(part), row_type.project_id == project_id)
        )
        found.update((row.id, row) for row in rows)
    return found
