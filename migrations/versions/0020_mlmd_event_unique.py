"""mlmd_event: one event per (execution, artifact, type), as MLMD's own schema holds

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 13:40:00

MLMD refuses a second event of the same type between the same execution and artifact
(ALREADY_EXISTS); the unique index makes that hold under concurrent writers too.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_mlmd_event_execution_id_artifact_id_type",
        "mlmd_event",
        ["execution_id", "artifact_id", "type"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_mlmd_event_execution_id_artifact_id_type", table_name="mlmd_event")
