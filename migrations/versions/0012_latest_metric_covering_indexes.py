"""metric_latest: the (key, value) indexes also hold the run, so a metric range is index-only

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:40:00

A filter such as `attributes.state = 'failed' and metrics.precision >= 0.99`, newest first, was
planned as a backward walk of every run probing each failed one for its metric (114,000 rows
and 11,000 probes at 1M runs): reading the range of `precision` values from the index needed a
table row per entry for the run's id, so the planner never chose it. With the run's id as the
last column the range is read from the index alone and joined to the runs in order (90 -> 30
ms). The last column also orders ties of a value by run, the order search pages in.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Search now joins metric_latest on the run's experiment: no row may lack it (0008 copied
    # it for every run then; this is for a database restored from a backup taken in between).
    op.execute(
        "UPDATE metric_latest SET experiment_id = "
        "(SELECT run.experiment_id FROM run WHERE run.execution_id = metric_latest.execution_id) "
        "WHERE experiment_id IS NULL"
    )
    op.drop_index("ix_metric_latest_experiment_key_value", table_name="metric_latest")
    op.drop_index("ix_metric_latest_key_value", table_name="metric_latest")
    op.create_index(
        "ix_metric_latest_experiment_key_value_execution",
        "metric_latest",
        ["experiment_id", "key", "value", "execution_id"],
    )
    op.create_index(
        "ix_metric_latest_key_value_execution", "metric_latest", ["key", "value", "execution_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_metric_latest_key_value_execution", table_name="metric_latest")
    op.drop_index("ix_metric_latest_experiment_key_value_execution", table_name="metric_latest")
    op.create_index("ix_metric_latest_key_value", "metric_latest", ["key", "value"])
    op.create_index(
        "ix_metric_latest_experiment_key_value", "metric_latest", ["experiment_id", "key", "value"]
    )
