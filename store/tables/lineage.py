"""The lineage graph, after MLMD: artifacts and executions joined by events, grouped by contexts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..kinds import (
    ARTIFACT_KINDS,
    ARTIFACT_STATES,
    CONTEXT_KINDS,
    EVENT_TYPES,
    EXECUTION_KINDS,
    EXECUTION_STATES,
)
from .base import Base, Id, Json, UtcDateTime, utcnow


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ArtifactSeriesRow(Base):
    """One row per artifact name: the version counter, locked while a new version is allocated.

    Allocating with an upsert on this row serialises writers of the same name only, so concurrent
    writers get consecutive versions without retries, and writers of other names never wait.
    """

    __tablename__ = "artifact_series"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    last_version: Mapped[int] = mapped_column(Integer)


class ArtifactRow(Base):
    __tablename__ = "artifact"
    __table_args__ = (
        UniqueConstraint("project_id", "name", "version"),
        # Same name + same content is the same version: the database enforces it against races.
        UniqueConstraint("project_id", "name", "fingerprint"),
        Index("ix_artifact_project_id_kind_id", "project_id", "kind", "id"),
        Index("ix_artifact_project_id_fingerprint", "project_id", "fingerprint"),
        CheckConstraint(_one_of("kind", ARTIFACT_KINDS), name="kind"),
        CheckConstraint(_one_of("state", ARTIFACT_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(256))
    version: Mapped[int] = mapped_column(Integer)
    uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(256), nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="live")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ExecutionRow(Base):
    __tablename__ = "execution"
    __table_args__ = (
        Index("ix_execution_project_id_kind_id", "project_id", "kind", "id"),
        Index("ix_execution_project_id_name", "project_id", "name"),
        # Runs by start time (MLflow's default search order).
        Index("ix_execution_project_id_started_at", "project_id", "started_at"),
        CheckConstraint(_one_of("kind", EXECUTION_KINDS), name="kind"),
        CheckConstraint(_one_of("state", EXECUTION_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    code_version: Mapped[str | None] = mapped_column(String(256), nullable=True)
    environment: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EventRow(Base):
    """An edge of the lineage graph.

    The two covering indexes make every hop of a lineage walk an index-only lookup, whichever
    side the walk arrives from.
    """

    __tablename__ = "event"
    __table_args__ = (
        # One edge per (execution, type, artifact); the unique index doubles as the covering
        # index for hops that arrive at an execution.
        UniqueConstraint("execution_id", "type", "artifact_id"),
        Index("ix_event_artifact_id_type_execution_id", "artifact_id", "type", "execution_id"),
        CheckConstraint(_one_of("type", EVENT_TYPES), name="type"),
    )

    # No project_id: both ends carry theirs (and the same one), and every foreign key is a
    # per-row check on the hottest insert path.
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    execution_id: Mapped[int] = mapped_column(ForeignKey("execution.id", ondelete="CASCADE"))
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifact.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(8))
    role: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ContextRow(Base):
    __tablename__ = "context"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "name"),
        CheckConstraint(_one_of("kind", CONTEXT_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(256))
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # A deleted experiment keeps its runs and lineage; listings leave it out (MLflow's
    # lifecycle stage), and it can be restored.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AttributionRow(Base):
    """context ⟷ artifact."""

    __tablename__ = "attribution"

    context_id: Mapped[int] = mapped_column(
        ForeignKey("context.id", ondelete="CASCADE"), primary_key=True
    )
    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifact.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AssociationRow(Base):
    """context ⟷ execution."""

    __tablename__ = "association"

    context_id: Mapped[int] = mapped_column(
        ForeignKey("context.id", ondelete="CASCADE"), primary_key=True
    )
    execution_id: Mapped[int] = mapped_column(
        ForeignKey("execution.id", ondelete="CASCADE"), primary_key=True, index=True
    )
