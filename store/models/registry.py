"""The model registry: registered models, their versions (model artifacts) and aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
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
