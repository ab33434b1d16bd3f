"""The append-only push log: what moved an alias, what was refused, and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..entities import Page, Push
from ..metadata.pagination import keyset_page
from ..tables import ModelPushRow
from ..tables.base import utcnow


def _push(row: ModelPushRow) -> Push:
    return Push(
        id=row.id,
        model=row.model,
        alias=row.alias,
        action=row.action,
        version=row.version,
        previous_version=row.previous_version,
        outcome=row.outcome,
        reasons=row.reasons or [],
        evaluation_id=row.evaluation_id,
        execution_id=row.execution_id,
        actor=row.actor,
        created_at=row.created_at,
    )


def append(
    session: Session,
    project_id: int,
    *,
    model: str,
    alias: str,
    action: str,
    version: int | None,
    previous_version: int | None,
    outcome: str,
    reasons: Sequence[dict[str, Any]],
    actor: str,
    evaluation_id: int | None = None,
    execution_id: int | None = None,
) -> Push:
    row = ModelPushRow(
        project_id=project_id,
        model=model,
        alias=alias,
        action=action,
        version=version,
        previous_version=previous_version,
        outcome=outcome,
        reasons=list(reasons),
        evaluation_id=evaluation_id,
        execution_id=execution_id,
        actor=actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _push(row)


def list_pushes(
    session: Session,
    project_id: int,
    model: str,
    *,
    alias: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Push]:
    """Newest first."""
    query = select(ModelPushRow).where(
        ModelPushRow.project_id == project_id, ModelPushRow.model == model
    )
    if alias is not None:
        query = query.where(ModelPushRow.alias == alias)
    return keyset_page(session, query, ModelPushRow, limit=limit, cursor=cursor, to_entity=_push)


def rollback_target(
    session: Session, project_id: int, model: str, alias: str, current: int
) -> Push | None:
    """The push that put `current` on `alias` (its previous version is where a rollback goes).
    Rollbacks are skipped, so rolling back twice walks further back: v3→v4→v5, rollback to v4,
    rollback again to v3."""
    row = session.scalars(
        select(ModelPushRow)
        .where(
            ModelPushRow.project_id == project_id,
            ModelPushRow.model == model,
            ModelPushRow.alias == alias,
            ModelPushRow.action == "push",
            ModelPushRow.outcome == "pushed",
            ModelPushRow.version == current,
        )
        .order_by(ModelPushRow.id.desc())
        .limit(1)
    ).first()
    return _push(row) if row is not None else None
