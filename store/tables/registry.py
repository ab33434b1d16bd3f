"""The model registry: registered models, their versions (model artifacts) and aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Id, Json, UtcDateTime, utcnow


class RegisteredModelRow(Base):
    __tablename__ = "registered_model"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ModelVersionRow(Base):
    """A version is a model artifact; its lineage (the run that wrote it, that run's datasets)
    is the artifact's, in the lineage graph."""

    __tablename__ = "model_version"
    __table_args__ = (
        UniqueConstraint("registered_model_id", "version"),
        # Registering the same artifact again is the same version (idempotent retries).
        UniqueConstraint("registered_model_id", "artifact_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    registered_model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_model.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifact.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("execution.id", ondelete="SET NULL"), nullable=True, index=True
    )
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # MLflow's deprecated stages (None, Staging, Production, Archived); aliases are the way.
    stage: Mapped[str] = mapped_column(String(16), default="None", server_default="None")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ModelAliasRow(Base):
    """`production` → version 7. Moved only by compare-and-set (see store.registry.models)."""

    __tablename__ = "model_alias"

    registered_model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_model.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(128), primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_version.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ModelGateRow(Base):
    """A registered model's gate: TFMA-style thresholds (JSON, validated at the API). Every
    change bumps `revision`; a blessing holds only under the revision it was decided by."""

    __tablename__ = "model_gate"

    registered_model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_model.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)
    config: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ModelEvaluationRow(Base):
    """One evaluation of a version and the blessing decided from it: every threshold's value,
    bound and verdict, against the incumbent that held `production` at the time."""

    __tablename__ = "model_evaluation"
    __table_args__ = (Index("ix_model_evaluation_version", "model_version_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_version.id", ondelete="CASCADE")
    )
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifact.id", ondelete="CASCADE"))
    execution_id: Mapped[int] = mapped_column(ForeignKey("execution.id", ondelete="CASCADE"))
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("artifact.id", ondelete="SET NULL"), nullable=True
    )
    baseline_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gate_revision: Mapped[int] = mapped_column(Integer)
    blessed: Mapped[bool] = mapped_column(Boolean)
    metrics: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ModelPushRow(Base):
    """The push log: every push, rollback and refusal, never updated or deleted (a trigger
    refuses both). No foreign keys: the trail outlives what it names."""

    __tablename__ = "model_push"
    __table_args__ = (Index("ix_model_push_model", "project_id", "model", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(Id)
    model: Mapped[str] = mapped_column(String(256))
    alias: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))  # push rollback
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    previous_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # pushed refused unchanged
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    evaluation_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    execution_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    actor: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
