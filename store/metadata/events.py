"""Events: the INPUT/OUTPUT edges between executions and artifacts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..entities import Event
from ..models import EventRow
from ..models.base import utcnow
from . import bulk


def add_many(
    session: Session, project_id: int, events: Sequence[Event], *, fresh: bool = False
) -> None:
    """Insert edges; an edge that exists already is left as it is.

    `fresh=True` promises that none can exist yet (their executions are new in this unit of
    work), which allows the bulk path.
    """
    if not events:
        return
    if fresh:
        now = utcnow()
        bulk.insert_rows(
            session,
            EventRow.__table__,
            [
                {
                    "project_id": project_id,
                    "execution_id": e.execution_id,
                    "artifact_id": e.artifact_id,
                    "type": e.type,
                    "role": e.role,
                    "created_at": now,
                }
                for e in events
            ],
        )
        return
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert_(EventRow).on_conflict_do_nothing(
            index_elements=["execution_id", "type", "artifact_id"]
        ),
        [
            {
                "project_id": project_id,
                "execution_id": e.execution_id,
                "artifact_id": e.artifact_id,
                "type": e.type,
                "role": e.role,
            }
            for e in events
        ],
    )


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
