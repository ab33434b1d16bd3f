"""Runs and experiments can be deleted and restored (MLflow's lifecycle stage)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:10:00

MLflow's client deletes runs and experiments and may restore them; lineage must keep every
node a model was made from, so deletion is a mark (`deleted_at`) that search and listings
respect, never a removed row. `run.killed` tells a run its caller stopped (MLflow's KILLED)
from one that failed: both are `failed` executions to the gates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD/DROP COLUMN, which SQLite does in place: a batch copy would drop and recreate
    # `context`, and with foreign keys on, dropping it cascades into every run.
    op.add_column("run", sa.Column("deleted_at", WHEN, nullable=True))
    op.add_column(
        "run", sa.Column("killed", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("context", sa.Column("deleted_at", WHEN, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # A new column has no statistics until autovacuum next analyzes the table, which row
        # counts, not columns, decide; meanwhile the planner takes `deleted_at IS NULL` (in
        # every search) to match 0.5% of runs, and at 100,000 runs picked plans 10-40 times
        # slower. A sample of the table settles it now.
        op.execute("ANALYZE run")
        op.execute("ANALYZE context")


def downgrade() -> None:
    op.drop_column("context", "deleted_at")
    op.drop_column("run", "killed")
    op.drop_column("run", "deleted_at")
