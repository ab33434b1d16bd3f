"""model_version.stage: MLflow's (deprecated) stages, kept for the clients that still move them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 05:20:00

`None`, `Staging`, `Production` or `Archived`. A plain added column with a default (no table
rebuild on SQLite: rebuilding a referenced table cascades deletes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "model_version",
        sa.Column("stage", sa.String(length=16), server_default="None", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("model_version", "stage")
