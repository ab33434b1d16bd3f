"""run_field: statistics of (experiment, section, key, head) together (Postgres)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:45:00

The planner multiplies the selectivities of `key = 'optimizer'` and `head = 'adam'` as if
independent, but a head is a value of one key: at 100,000 runs it expected 6,000 runs with
`params.optimizer = "adam"` where there were 33,000, and for `params.optimizer = "adam" and
params.depth = "3"` by `metrics.auc desc` it joined both params' runs and sorted them (66 ms)
instead of walking the metric's index until a page matched (14 ms). A multivariate MCV list
of the four columns gives it the real frequencies. SQLite has no such statistics; its plan for
these shapes is fixed by the query (store/tracking/joins.py).
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE STATISTICS st_run_field_experiment_section_key_head (mcv) "
        "ON experiment_id, section, key, head FROM run_field"
    )
    op.execute("ANALYZE run_field")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_run_field_experiment_section_key_head")
