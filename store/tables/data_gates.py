"""Data gates: validation jobs (a queue in the metadata database), their verdicts, and the
serialized protos (statistics, schemas, anomalies) they produce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Id, Json, UtcDateTime, utcnow


class BlobRow(Base):
    """The bytes of an artifact the service itself stores (TFDV protos: kilobytes to a few
    megabytes). In the database, so every service process and worker sees the same."""

    __tablename__ = "blob"

    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifact.id", ondelete="CASCADE"), primary_key=True
    )
    media_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ValidationJobRow(Base):
    """One dataset version to validate. Workers lease queued jobs (or jobs whose lease ran
    out: their worker died) with FOR UPDATE SKIP LOCKED."""

    __tablename__ = "validation_job"
    __table_args__ = (Index("ix_validation_job_pick", "project_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("artifact.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued running done failed
    options: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # The runner profile a worker must have to take the job (worker configuration, never a
    # runner or pipeline option from the request: SECURITY.md).
    profile: Mapped[str] = mapped_column(String(64), default="direct")
    # SHA-256 of the current lease's secret: only the holder of that lease may renew or report.
    lease_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    execution_id: Mapped[int | None] = mapped_column(
        ForeignKey("execution.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class DataGateRow(Base):
    """The verdict on one dataset version: pending, passed, failed (anomalies) or error (the
    data could not be read), with readable reasons and the artifacts behind them."""

    __tablename__ = "data_gate"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("artifact.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("validation_job.id", ondelete="SET NULL"), nullable=True
    )
    statistics_id: Mapped[int | None] = mapped_column(
        ForeignKey("artifact.id", ondelete="SET NULL"), nullable=True
    )
    schema_id: Mapped[int | None] = mapped_column(
        ForeignKey("artifact.id", ondelete="SET NULL"), nullable=True
    )
    anomalies_id: Mapped[int | None] = mapped_column(
        ForeignKey("artifact.id", ondelete="SET NULL"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
