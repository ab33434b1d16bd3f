"""external_id and lineage_event: the doors' identities of nodes, OpenLineage's raw events

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 05:45:00

`external_id` finds the node an OpenLineage run, job or dataset became (and later MLMD's ids);
`lineage_event` keeps each event once, verbatim, listable by run and by job.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_id",
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("node_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_external_id_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "system", "kind", "key", name=op.f("pk_external_id")),
    )
    op.create_table(
        "lineage_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("event_kind", sa.String(length=8), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=True),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=256), nullable=True),
        sa.Column("job_namespace", sa.String(length=512), nullable=True),
        sa.Column("job_name", sa.String(length=512), nullable=True),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_lineage_event_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_event")),
        sa.UniqueConstraint(
            "project_id", "digest", name=op.f("uq_lineage_event_project_id_digest")
        ),
    )
    op.create_index(
        "ix_lineage_event_project_id_job_id",
        "lineage_event",
        ["project_id", "job_namespace", "job_name", "id"],
    )
    op.create_index(
        "ix_lineage_event_project_id_run_id_id", "lineage_event", ["project_id", "run_id", "id"]
    )


def downgrade() -> None:
    op.drop_table("lineage_event")
    op.drop_table("external_id")
