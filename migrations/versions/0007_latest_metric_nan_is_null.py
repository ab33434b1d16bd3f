"""a latest metric that is NaN is stored as NULL on Postgres too

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:30:00

Search filters and orders by `metric_latest.value`. SQLite cannot store NaN (NULL stands for
it); Postgres stored the NaN itself, which compares greater than every number and equal to
itself, so `metrics.f1 > 0.4` matched NaN runs there and not on SQLite, and `metrics.f1 desc`
put them first. NULL on both: NaN matches no comparison and sorts last. (The `metric` history
keeps NaN points as they were logged.)
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE metric_latest SET value = NULL WHERE value = 'NaN'::float8")


def downgrade() -> None:
    pass  # NULL reads back as NaN either way (store/tracking/metrics.py)
