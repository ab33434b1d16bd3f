"""artifact_file: the artifact store's paths and the content each names

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 02:00:00

Files uploaded through MLflow's artifact routes (and mlledger's `upload=True`) are stored by
their sha256 in the object store; this table names them per project by path, in byte order
(collation "C" on Postgres) so a folder is a range of the primary key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "artifact_file",
        sa.Column("project_id", ID, nullable=False),
        sa.Column(
            "path",
            sa.String(length=1024).with_variant(
                sa.String(length=1024, collation="C"), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_artifact_file_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "path", name=op.f("pk_artifact_file")),
    )


def downgrade() -> None:
    op.drop_table("artifact_file")
