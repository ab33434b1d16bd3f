"""Executions: runs, validations, materializations... anything that reads and writes artifacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..entities import Execution, Page
from ..errors import NotFound
from ..tables import AssociationRow, ExecutionRow
from ..tables.base import to_utc, utcnow
from . import bulk
from .pagination import keyset_page


@dataclass(frozen=True, slots=True)
class NewExecution:
    kind: str
    name: str
    state: str = "running"
    params: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    code_version: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    ended_at: datetime | None = None


def to_entity(row: ExecutionRow) -> Execution:
    return Execution(
        id=row.id,
        project_id=row.project_id,
        kind=row.kind,
        name=row.name,
        state=row.state,
        params=row.params or {},
        properties=row.properties or {},
        code_version=row.code_version,
        environment=row.environment or {},
        started_at=row.started_at,
        ended_at=row.ended_at,
        created_at=row.created_at,
    )


def get(
    session: Session, project_id: int, execution_id: int, *, for_update: bool = False
) -> Execution:
    row = _row(session, project_id, execution_id, for_update=for_update)
    return to_entity(row)


def _row(session: Session, project_id: int, execution_id: int, *, for_update: bool) -> ExecutionRow:
    row = session.get(ExecutionRow, execution_id, with_for_update=for_update)
    if row is None or row.project_id != project_id:
        raise NotFound(
            f"execution {execution_id} does not exist", details={"execution_id": execution_id}
        )
    return row


def get_many(session: Session, project_id: int, ids: Sequence[int]) -> dict[int, Execution]:
    """By id; ids of other projects (or of nothing) are simply absent."""
    rows = bulk.by_ids(session, ExecutionRow, project_id, ids)
    return {i: to_entity(r) for i, r in rows.items()}


def list_page(
    session: Session,
    project_id: int,
    *,
    kind: str | None = None,
    name: str | None = None,
    state: str | None = None,
    context_id: int | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Execution]:
    query = select(ExecutionRow).where(ExecutionRow.project_id == project_id)
    if kind is not None:
        query = query.where(ExecutionRow.kind == kind)
    if name is not None:
        query = query.where(ExecutionRow.name == name)
    if state is not None:
        query = query.where(ExecutionRow.state == state)
    if context_id is not None:
        query = query.join(AssociationRow, AssociationRow.execution_id == ExecutionRow.id).where(
            AssociationRow.context_id == context_id
        )
    return keyset_page(
        session, query, ExecutionRow, limit=limit, cursor=cursor, to_entity=to_entity
    )


def create_many(
    session: Session, project_id: int, specs: Sequence[NewExecution]
) -> list[Execution]:
    """Insert executions in one bulk write, results in the order of `specs`."""
    if not specs:
        return []
    now = utcnow()
    rows = [
        {
            "project_id": project_id,
            "kind": s.kind,
            "name": s.name,
            "state": s.state,
            "params": s.params,
            "properties": s.properties,
            "code_version": s.code_version,
            "environment": s.environment,
            "started_at": to_utc(s.started_at) or now,
            "ended_at": to_utc(s.ended_at),
            "created_at": now,
        }
        for s in specs
    ]
    new_ids = bulk.insert_rows(session, bulk.table_of(ExecutionRow), rows)
    return [Execution(id=i, **row) for i, row in zip(new_ids, rows, strict=True)]  # type: ignore[arg-type]


def update(
    session: Session,
    project_id: int,
    execution_id: int,
    *,
    state: str | None = None,
    ended_at: datetime | None = None,
    properties: dict[str, Any] | None = None,
    started_at: datetime | None = None,
) -> tuple[Execution, Execution]:
    """Change an execution under a row lock; returns (before, after) for the caller's checks."""
    row = _row(session, project_id, execution_id, for_update=True)
    before = to_entity(row)
    if state is not None:
        row.state = state
    if ended_at is not None:
        row.ended_at = ended_at
    if started_at is not None:
        row.started_at = started_at
    if properties is not None:
        row.properties = {**(row.properties or {}), **properties}
    session.flush()
    return before, to_entity(row)


def delete(session: Session, project_id: int, execution_id: int) -> None:
    """Remove an execution this transaction made and nothing refers to yet (a duplicate)."""
    session.delete(_row(session, project_id, execution_id, for_update=True))
    session.flush()


def lock_many(session: Session, project_id: int, ids: Sequence[int]) -> dict[int, Execution]:
    """By id, under row locks taken in id order (a batch's merges cannot lose a concurrent
    writer's, and two batches cannot deadlock on each other)."""
    rows = bulk.by_ids(session, ExecutionRow, project_id, ids, lock=True)
    return {i: to_entity(r) for i, r in rows.items()}


def update_many(session: Session, changes: Sequence[Execution]) -> None:
    """Store the state, times and properties of executions locked by `lock_many`."""
    bulk.update_rows(
        session,
        bulk.table_of(ExecutionRow),
        [
            {
                "id": e.id,
                "state": e.state,
                "started_at": to_utc(e.started_at),
                "ended_at": to_utc(e.ended_at),
                "properties": e.properties,
            }
            for e in changes
        ],
    )
