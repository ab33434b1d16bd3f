"""Events: the INPUT/OUTPUT edges between executions and artifacts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..entities import Event
from ..tables import EventRow
from ..tables.base import utcnow
from . import bulk


def add_many(session: Session, events: Sequence[Event], *, fresh: bool = False) -> None:
    """Insert edges; an edge that exists already is left as it is.

    `fresh=True` promises that none can exist yet (their executions are new in this unit of
    work), which allows the bulk path. The caller guarantees both ends are in one project.
    """
    if not events:
        return
    now = utcnow()
    rows = [
        {
            "execution_id": e.execution_id,
            "artifact_id": e.artifact_id,
            "type": e.type,
            "role": e.role,
            "created_at": now,
        }
        for e in events
    ]
    if fresh:
        bulk.insert_rows(session, bulk.table_of(EventRow), rows)
        return
    bulk.insert_ignoring(session, bulk.table_of(EventRow), rows)


def of_executions(session: Session, execution_ids: Sequence[int]) -> list[Event]:
    if not execution_ids:
        return []
    rows = session.scalars(
        select(EventRow).where(EventRow.execution_id.in_(set(execution_ids))).order_by(EventRow.id)
    )
    return [_event(r) for r in rows]


def of_artifacts(session: Session, artifact_ids: Sequence[int]) -> list[Event]:
    if not artifact_ids:
        return []
    rows = session.scalars(
        select(EventRow).where(EventRow.artifact_id.in_(set(artifact_ids))).order_by(EventRow.id)
    )
    return [_event(r) for r in rows]


def _event(row: EventRow) -> Event:
    return Event(
        execution_id=row.execution_id,
        artifact_id=row.artifact_id,
        type=row.type,  # type: ignore[arg-type]
        role=row.role,
    )
