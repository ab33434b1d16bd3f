"""run_field: a covering index for the per-run probe of search's semi-joins

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:00:00

Search ordered by a metric walks the metric's index and asks, run by run, whether the run has
`params.depth = "3"`: with only the primary key (execution_id, section, key) each probe also
read the table row for `head`. This index holds `head` and the experiment, so the probe is an
index-only scan (Postgres) or a covering-index search (SQLite).
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_run_field_execution_section_key_head",
        "run_field",
        ["execution_id", "section", "key", "head", "experiment_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_run_field_execution_section_key_head", table_name="run_field")
