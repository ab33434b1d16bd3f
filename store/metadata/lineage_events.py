"""OpenLineage's events as they arrived: kept once each (by the digest of their canonical
JSON), listable by run and by job, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..entities import Page
from ..tables import LineageEventRow
from ..tables.base import utcnow
from . import bulk
from .pagination import keyset_page


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    event_kind: str  # run | job | dataset
    event_type: str | None
    event_time: datetime
    run_id: str | None
    job_namespace: str | None
    job_name: str | None
    body: dict[str, Any]
    received_at: datetime


def _entity(row: LineageEventRow) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        event_kind=row.event_kind,
        event_type=row.event_type,
        event_time=row.event_time,
        run_id=row.run_id,
        job_namespace=row.job_namespace,
        job_name=row.job_name,
        body=row.body,
        received_at=row.received_at,
    )


def add(
    session: Session,
    project_id: int,
    *,
    digest: str,
    event_kind: str,
    event_type: str | None,
    event_time: datetime,
    run_id: str | None,
    job: tuple[str, str] | None,
    body: dict[str, Any],
) -> int | None:
    """The new event's id, or None when this project holds the same event already."""
    inserted = session.execute(
        bulk.dialect_insert(session)(LineageEventRow)
        .values(
            project_id=project_id,
            digest=digest,
            event_kind=event_kind,
            event_type=event_type,
            event_time=event_time,
            run_id=run_id,
            job_namespace=job[0] if job else None,
            job_name=job[1] if job else None,
            body=body,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["project_id", "digest"])
        .returning(LineageEventRow.id)
    ).first()
    return None if inserted is None else int(inserted[0])


def list_page(
    session: Session,
    project_id: int,
    *,
    run_id: str | None,
    job: tuple[str, str] | None,
    limit: int,
    cursor: str | None,
) -> Page[StoredEvent]:
    query = select(LineageEventRow).where(LineageEventRow.project_id == project_id)
    if run_id is not None:
        query = query.where(LineageEventRow.run_id == run_id)
    if job is not None:
        query = query.where(
            LineageEventRow.job_namespace == job[0], LineageEventRow.job_name == job[1]
        )
    return keyset_page(
        session, query, LineageEventRow, limit=limit, cursor=cursor, to_entity=_entity
    )
