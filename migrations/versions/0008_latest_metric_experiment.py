"""metric_latest carries the run's experiment, indexed with the key and value

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:40:00

Search ordered by a metric (`metrics.auc desc`) walks (experiment_id, key, value) from its end
and stops after a page, instead of computing the metric of every run of the experiment and
sorting them. The column is copied from `run` (a run never changes experiment).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_latest") as batch:
        batch.add_column(
            sa.Column(
                "experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
    op.execute(
        "UPDATE metric_latest SET experiment_id = "
        "(SELECT run.experiment_id FROM run WHERE run.execution_id = metric_latest.execution_id)"
    )
    op.create_index(
        "ix_metric_latest_experiment_key_value",
        "metric_latest",
        ["experiment_id", "key", "value"],
    )


def downgrade() -> None:
    op.drop_index("ix_metric_latest_experiment_key_value", table_name="metric_latest")
    with op.batch_alter_table("metric_latest") as batch:
        batch.drop_column("experiment_id")
