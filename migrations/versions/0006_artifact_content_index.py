"""artifacts found by content: an index on (project_id, fingerprint)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:00:00

A run that reads data the graph already holds (a training set written by
`POST /features/historical`, a dataset logged by another run) is linked to that artifact, found
by its fingerprint and URI, instead of getting a new one with no producer.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_artifact_project_id_fingerprint", "artifact", ["project_id", "fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_artifact_project_id_fingerprint", table_name="artifact")
