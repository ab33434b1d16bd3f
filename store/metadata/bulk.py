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

import orjson
import psycopg
from sqlalchemy import JSON, Table, bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
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


# Up to this many rows an INSERT ... RETURNING is one round trip where COPY takes two (ids
# from the sequence, then the COPY): a single write (one MLMD PutExecution, one REST call) is
# that much quicker; past it COPY's speed wins.
FEW = 8


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (all with the same keys) and return their new ids, in order."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql" and len(rows) > FEW:
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
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for new_id, row in zip(ids, rows, strict=True):
                # COPY's text format parses JSON text into jsonb itself: no adapter per value.
                copy.write_row(
                    [new_id, *(_json(row[c]) if c in json_columns else row[c] for c in columns)]
                )
    except psycopg.Error as exc:
        # Past SQLAlchemy, so wrapped as it would have: a unique key met under a race is then
        # the IntegrityError every transport's error mapping knows.
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
    return list(ids)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return "{}" if value == {} else json.dumps(value, separators=(",", ":"))


def by_ids(
    session: Session, row_type: Any, project_id: int, ids: Sequence[int], *, lock: bool = False
) -> dict[int, Any]:
    """Rows of `row_type` with these ids in the project (others' ids are simply absent), in as
    few IN statements as the parameter limits allow. `lock` takes their row locks (Postgres),
    in id order, so that writers locking overlapping sets cannot deadlock."""
    found: dict[int, Any] = {}
    for part in chunks(sorted(set(ids))):
        query = select(row_type).where(row_type.id.in_(part), row_type.project_id == project_id)
        if lock:
            query = (
                query.order_by(row_type.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        found.update((row.id, row) for row in session.scalars(query))
    return found


def insert_ignoring(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert `rows` (all with the same keys), leaving any that would break a unique key;
    returns the `returning` columns of the rows inserted (in no particular order).

    Postgres: one statement with the rows as one JSON parameter (`json_populate_recordset`
    types them by the table's columns), so its plan is cached and its cost is one round trip
    and one orjson call however many rows — a multi-row VALUES is compiled anew for each size,
    executemany is a statement a row, and arrays of text are escaped value by value. SQLite
    runs in-process: executemany.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        statement = sqlite.insert(table).on_conflict_do_nothing()
        if not returning:
            session.execute(statement, list(rows))
            return []
        result = session.execute(statement.returning(*(table.c[c] for c in returning)), list(rows))
        return [tuple(r) for r in result]
    quoted = ", ".join(f'"{c}"' for c in rows[0])
    sql = (
        f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} '
        f'FROM json_populate_recordset(NULL::"{table.name}", CAST(:rows AS json)) '
        "ON CONFLICT DO NOTHING"
    )
    if returning:
        sql += " RETURNING " + ", ".join(f'"{c}"' for c in returning)
    out: list[tuple[Any, ...]] = []
    for part in chunks(rows):
        result = session.execute(text(sql), {"rows": orjson.dumps(list(part)).decode()})
        if returning:
            out.extend(tuple(r) for r in result)
    return out


def update_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Set columns of rows by id: each row has `id` and the same other keys. The caller has
    locked the rows (`by_ids(lock=True)`). Postgres: one statement with the rows as one JSON
    parameter (see insert_ignoring); SQLite: executemany, in-process."""
    if not rows:
        return
    columns = [k for k in rows[0] if k != "id"]
    if session.get_bind().dialect.name == "postgresql":
        sets = ", ".join(f'"{c}" = v."{c}"' for c in columns)
        sql = (
            f'UPDATE "{table.name}" AS t SET {sets} '
            f'FROM json_populate_recordset(NULL::"{table.name}", CAST(:rows AS json)) v '
            "WHERE t.id = v.id"
        )
        for part in chunks(rows):
            session.execute(text(sql), {"rows": orjson.dumps(list(part)).decode()})
        return
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({c: bindparam(f"new_{c}") for c in columns})
    )
    session.execute(
        statement, [{"row_id": r["id"], **{f"new_{c}": r[c] for c in columns}} for r in rows]
    )
