"""run_field: a run's params and tags as indexed rows, for search

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:45:00

Search filtered `params.optimizer = "adam"` by extracting JSON from every run, and the planner,
with no statistics on a JSON extraction, guessed a handful of matches: at a million runs it
read every run instead of walking a metric's order. These rows copy the JSON (kept in the same
transaction as every write of it) under an index with real statistics. Backfilled from
`execution.params` and `run.tags`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "run_field",
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("section", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("experiment_id", ID, nullable=False),
        sa.Column("head", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=6000), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["execution.id"],
            name=op.f("fk_run_field_execution_id_execution"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("execution_id", "section", "key", name=op.f("pk_run_field")),
    )
    op.create_index(
        "ix_run_field_experiment_section_key_head",
        "run_field",
        ["experiment_id", "section", "key", "head"],
    )
    if op.get_bind().dialect.name == "postgresql":
        each = "jsonb_each_text"
        head = "left(f.value, 200)"
    else:
        each = "json_each"
        head = "substr(f.value, 1, 200)"
    for section, source, join in (
        ("params", "e.params", "JOIN execution AS e ON e.id = r.execution_id"),
        ("tags", "r.tags", ""),
    ):
        op.execute(
            f"INSERT INTO run_field (execution_id, section, key, experiment_id, head, value) "
            f"SELECT r.execution_id, '{section}', f.key, r.experiment_id, {head}, f.value "
            f"FROM run AS r {join}, {each}({source}) AS f WHERE f.value IS NOT NULL"
        )


def downgrade() -> None:
    op.drop_index("ix_run_field_experiment_section_key_head", table_name="run_field")
    op.drop_table("run_field")
