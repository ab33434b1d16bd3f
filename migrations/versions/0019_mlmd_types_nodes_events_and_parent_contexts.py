"""mlmd_type, mlmd_node, mlmd_event, parent_context: MLMD's model beside mlledger's nodes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 08:20:49

What MLMD's gRPC clients (TFX, Kubeflow Pipelines) record beyond mlledger's own columns: their
registered types, each node's type, name, external id, state and typed properties, MLMD's eight
event types with paths, and parent contexts. New tables only: nothing existing is rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlmd_type",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("type_kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("version", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=1024), nullable=True),
        sa.Column("base_type", sa.Integer(), nullable=True),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_mlmd_type_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlmd_type")),
        sa.UniqueConstraint(
            "project_id",
            "type_kind",
            "name",
            "version",
            name=op.f("uq_mlmd_type_project_id_type_kind_name_version"),
        ),
    )
    op.create_index(
        "ix_mlmd_type_external_id",
        "mlmd_type",
        ["project_id", "type_kind", "external_id"],
        unique=True,
    )

    op.create_table(
        "mlmd_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "execution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "artifact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column(
            "path",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["artifact.id"],
            name=op.f("fk_mlmd_event_artifact_id_artifact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["execution.id"],
            name=op.f("fk_mlmd_event_execution_id_execution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_mlmd_event_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlmd_event")),
    )
    op.create_index("ix_mlmd_event_artifact_id", "mlmd_event", ["artifact_id", "id"], unique=False)
    op.create_index(
        "ix_mlmd_event_execution_id", "mlmd_event", ["execution_id", "id"], unique=False
    )

    op.create_table(
        "mlmd_node",
        sa.Column("node_type", sa.String(length=1), nullable=False),
        sa.Column("node_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("type_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("external_id", sa.String(length=1024), nullable=True),
        sa.Column("state", sa.Integer(), nullable=True),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "custom_properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_mlmd_node_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["mlmd_type.id"],
            name=op.f("fk_mlmd_node_type_id_mlmd_type"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("node_type", "node_id", name=op.f("pk_mlmd_node")),
        sa.UniqueConstraint(
            "project_id",
            "node_type",
            "type_id",
            "name",
            name=op.f("uq_mlmd_node_project_id_node_type_type_id_name"),
        ),
    )
    op.create_index(
        "ix_mlmd_node_external_id",
        "mlmd_node",
        ["project_id", "node_type", "external_id"],
        unique=True,
    )
    op.create_index(
        "ix_mlmd_node_type",
        "mlmd_node",
        ["project_id", "node_type", "type_id", "node_id"],
        unique=False,
    )

    op.create_table(
        "parent_context",
        sa.Column("child_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["context.id"],
            name=op.f("fk_parent_context_child_id_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["context.id"],
            name=op.f("fk_parent_context_parent_id_context"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("child_id", "parent_id", name=op.f("pk_parent_context")),
    )
    op.create_index(
        op.f("ix_parent_context_parent_id"), "parent_context", ["parent_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_parent_context_parent_id"), table_name="parent_context")

    op.drop_table("parent_context")
    op.drop_index("ix_mlmd_node_type", table_name="mlmd_node")
    op.drop_index("ix_mlmd_node_external_id", table_name="mlmd_node")

    op.drop_table("mlmd_node")
    op.drop_index("ix_mlmd_event_execution_id", table_name="mlmd_event")
    op.drop_index("ix_mlmd_event_artifact_id", table_name="mlmd_event")

    op.drop_table("mlmd_event")
    op.drop_index("ix_mlmd_type_external_id", table_name="mlmd_type")

    op.drop_table("mlmd_type")
