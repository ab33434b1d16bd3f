"""What MLMD's model has beyond mlledger's, kept beside the nodes it describes (an MLMD artifact
*is* an `artifact` row, an execution an `execution` row, a context a `context` row, under the
same ids): its registered types, each node's type, MLMD name, external id, state and typed
properties, MLMD's own event types and paths, and the context hierarchy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Id, Json


class MlmdTypeRow(Base):
    """An ArtifactType, ExecutionType or ContextType: a name (and version), its properties'
    value types, and the rest of MLMD's type fields as sent."""

    __tablename__ = "mlmd_type"
    __table_args__ = (
        UniqueConstraint("project_id", "type_kind", "name", "version"),
        Index("ix_mlmd_type_external_id", "project_id", "type_kind", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    type_kind: Mapped[str] = mapped_column(String(16))  # artifact | execution | context
    name: Mapped[str] = mapped_column(String(256))
    version: Mapped[str] = mapped_column(String(256), default="")  # "" is no version
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    base_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)  # name -> PropertyType
    extra: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)  # input_type, output_type


class MlmdNodeRow(Base):
    """An artifact's, execution's or context's MLMD fields (`node_type` a, e or c)."""

    __tablename__ = "mlmd_node"
    __table_args__ = (
        UniqueConstraint("project_id", "node_type", "type_id", "name"),
        Index("ix_mlmd_node_external_id", "project_id", "node_type", "external_id", unique=True),
        Index("ix_mlmd_node_type", "project_id", "node_type", "type_id", "node_id"),
    )

    node_type: Mapped[str] = mapped_column(String(1), primary_key=True)
    node_id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    type_id: Mapped[int] = mapped_column(ForeignKey("mlmd_type.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    state: Mapped[int | None] = mapped_column(Integer, nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)  # name -> Value
    custom_properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class MlmdEventRow(Base):
    """An MLMD event as sent: any of its eight types, its path, its time. The lineage edge it
    means (INPUT or OUTPUT) is an `event` row too."""

    __tablename__ = "mlmd_event"
    __table_args__ = (
        Index("ix_mlmd_event_execution_id", "execution_id", "id"),
        Index("ix_mlmd_event_artifact_id", "artifact_id", "id"),
        Index(
            "ix_mlmd_event_execution_id_artifact_id_type",
            "execution_id",
            "artifact_id",
            "type",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    execution_id: Mapped[int] = mapped_column(ForeignKey("execution.id", ondelete="CASCADE"))
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifact.id", ondelete="CASCADE"))
    type: Mapped[int] = mapped_column(Integer)
    path: Mapped[list[Any]] = mapped_column(Json, default=list)  # steps: {"index"} | {"key"}
    ms: Mapped[int] = mapped_column(BigInteger)


class ParentContextRow(Base):
    """context -> its parent context (MLMD's PutParentContexts)."""

    __tablename__ = "parent_context"

    child_id: Mapped[int] = mapped_column(
        ForeignKey("context.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("context.id", ondelete="CASCADE"), primary_key=True, index=True
    )
