"""What the doors need to find a node again, and OpenLineage's events as they arrived.

`external_id` maps a protocol's identity (an OpenLineage run id, job or dataset name; later MLMD's
ids) to the node it became — beside the graph, not a second one. `lineage_event` keeps each
OpenLineage event verbatim (facets of any version, custom ones included), once: its digest is
the canonical JSON's sha256, so a producer's retry is a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Id, Json, UtcDateTime, utcnow


class ExternalIdRow(Base):
    __tablename__ = "external_id"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    system: Mapped[str] = mapped_column(String(16), primary_key=True)  # openlineage
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # run | job | dataset
    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    node_id: Mapped[int] = mapped_column(Id)  # an execution, context or artifact id
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LineageEventRow(Base):
    __tablename__ = "lineage_event"
    __table_args__ = (
        UniqueConstraint("project_id", "digest"),
        Index("ix_lineage_event_project_id_run_id_id", "project_id", "run_id", "id"),
        Index(
            "ix_lineage_event_project_id_job_id", "project_id", "job_namespace", "job_name", "id"
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64))
    event_kind: Mapped[str] = mapped_column(String(8))  # run | job | dataset
    event_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    run_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    job_namespace: Mapped[str | None] = mapped_column(String(512), nullable=True)
    job_name: Mapped[str | None] = mapped_column(String(512), nullable=True)
    body: Mapped[dict[str, Any]] = mapped_column(Json)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
