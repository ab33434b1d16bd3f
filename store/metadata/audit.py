"""The audit log: one row per mutation, written in the same transaction as the mutation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ..tables import AuditRow
from ..tables.base import utcnow
from . import bulk


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: str
    entity_type: str
    entity_id: int | None
    details: dict[str, Any] = field(default_factory=dict)


def artifact_created(artifact: Any) -> AuditEntry:
    """The entry every path that creates an artifact writes."""
    return AuditEntry(
        "artifact.create",
        "artifact",
        artifact.id,
        {"name": artifact.name, "version": artifact.version},
    )


def record(session: Session, project_id: int, actor: str, entries: list[AuditEntry]) -> None:
    if not entries:
        return
    now = utcnow()
    bulk.insert_rows(
        session,
        bulk.table_of(AuditRow),
        [
            {
                "project_id": project_id,
                "actor": actor,
                "action": e.action,
                "entity_type": e.entity_type,
                "entity_id": e.entity_id,
                "details": e.details,
                "at": now,
            }
            for e in entries
        ],
    )
