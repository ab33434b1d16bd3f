"""OpenLineage's events as they arrived: kept once each (by the digest of their canonical
JSON), listable by run and by job, newest first."""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class NewEvent:
    digest: str
    event_kind: str
    event_type: str | None
    event_time: datetime
    run_id: str | None
    job: tuple[str, str] | None
    body: dict[str, Any]


def add_many(session: Session, project_id: int, new: Sequence[NewEvent]) -> list[int | None]:
    """Each event's new id, or None for one this project holds already (or that came earlier
    in `new`): the digest is the event's identity, so a redelivery changes nothing."""
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for e in new:
        rows.setdefault(
            e.digest,
            {
                "project_id": project_id,
                "digest": e.digest,
                "event_kind": e.event_kind,
                "event_type": e.event_type,
                "event_time": e.event_time,
                "run_id": e.run_id,
                "job_namespace": e.job[0] if e.job else None,
                "job_name": e.job[1] if e.job else None,
                "body": e.body,
                "received_at": now,
            },
        )
    inserted = bulk.insert_ignoring(
        session, bulk.table_of(LineageEventRow), list(rows.values()), returning=("digest", "id")
    )
    ids = {d: int(i) for d, i in inserted}
    out: list[int | None] = []
    for e in new:
        out.append(ids.pop(e.digest, None))  # a digest twice in `new`: the second is a repeat
    return out


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
