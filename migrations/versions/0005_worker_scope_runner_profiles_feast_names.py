"""worker scope, runner profiles and lease secrets, recorded Feast project names

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:50:00

Projects that already hold feature views keep the Feast project name the old mapping gave
them (letters, digits and `_`; every other character as `_`), so their registries and online
values stay where they are. Where the old mapping made two projects share one name, the oldest
project keeps it and the others get the new injective name (their definitions must be applied
again: they were never separate). Every other project gets its name when it first uses the
feature store (mlledger.store.features.names).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_constraint(op.f("ck_api_token_scope"), type_="check")
        batch.create_check_constraint(
            op.f("ck_api_token_scope"), "scope IN ('read','write','admin','worker')"
        )
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("feast_project", sa.String(length=300), nullable=True))
        batch.create_unique_constraint(op.f("uq_project_feast_project"), ["feast_project"])
    with op.batch_alter_table("validation_job") as batch:
        batch.add_column(
            sa.Column("profile", sa.String(length=64), nullable=False, server_default="direct")
        )
        batch.add_column(sa.Column("lease_secret_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("validation_job") as batch:
        batch.alter_column("profile", server_default=None)

    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT p.id, p.name FROM project p WHERE EXISTS (SELECT 1 FROM artifact a "
            "WHERE a.project_id = p.id AND a.kind = 'feature_view') ORDER BY p.id"
        )
    ).all()
    taken: set[str] = set()
    for project_id, name in rows:
        legacy = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if legacy in taken:
            continue
        taken.add(legacy)
        conn.execute(
            sa.text("UPDATE project SET feast_project = :f WHERE id = :i"),
            {"f": legacy, "i": project_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("validation_job") as batch:
        batch.drop_column("lease_secret_hash")
        batch.drop_column("profile")
    with op.batch_alter_table("project") as batch:
        batch.drop_constraint(op.f("uq_project_feast_project"), type_="unique")
        batch.drop_column("feast_project")
    op.execute("DELETE FROM api_token WHERE scope = 'worker'")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_constraint(op.f("ck_api_token_scope"), type_="check")
        batch.create_check_constraint(
            op.f("ck_api_token_scope"), "scope IN ('read','write','admin')"
        )
