"""Idempotency keys: a retried client write is applied once and answered the same way again.

The key is claimed inside the write's own transaction. Two attempts racing with one key: on
Postgres the second insert waits on the first's uncommitted row, then finds it; SQLite writers
are serialised (BEGIN IMMEDIATE). Either way exactly one attempt does the work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidArgument
from ..metadata import bulk
from ..metadata.bulk import table_of
from ..tables import IdempotencyKeyRow
from ..tables.base import utcnow


def claim(session: Session, project_id: int, key: str, operation: str) -> dict[str, Any] | None:
    """Claim `key` for this write; None when it is new (do the work, then `answer`), else the
    answer stored by the attempt that did it.

    Raises:
        InvalidArgument: the key was used for a different operation.
    """
    inserted = session.execute(
        bulk.dialect_insert(session)(IdempotencyKeyRow)
        .values(
            project_id=project_id, key=key, operation=operation, response={}, created_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["project_id", "key"])
        .returning(IdempotencyKeyRow.key)
    ).first()
    if inserted is not None:
        return None
    row = session.execute(
        select(IdempotencyKeyRow.operation, IdempotencyKeyRow.response).where(
            IdempotencyKeyRow.project_id == project_id, IdempotencyKeyRow.key == key
        )
    ).one()
    if row.operation != operation:
        raise InvalidArgument(
            f"idempotency key {key!r} was already used for {row.operation}, not {operation}",
            details={"idempotency_key": key, "operation": row.operation},
        )
    return dict(row.response)


def answer(session: Session, project_id: int, key: str, response: dict[str, Any]) -> None:
    """Store what the write answered, for the retries that will find the key."""
    session.execute(
        table_of(IdempotencyKeyRow)
        .update()
        .where(IdempotencyKeyRow.project_id == project_id, IdempotencyKeyRow.key == key)
        .values(response=response)
    )
