"""metric_chunk: metric points as packed chunks, a row per batch and key

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:40:00

A row per point made the two b-trees of `metric` the cost of ingest (about 300,000 points/s
however fast the rest was) and a 100,000-point history a 100,000-row read. A chunk holds up to
10,000 points of one series as little-endian int64/float64 columns (store/tracking/chunks.py).
On Postgres the columns are lz4-compressed (pglz, the default, cost more than the
rest of an insert). Existing points are copied in (step, timestamp) order, 10,000 to a chunk; SQLite's NULL (its
NaN) becomes NaN again. The downgrade unpacks them into rows.

Self-contained on purpose: a migration must not change when the application's code does.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PER_CHUNK = 10_000


def upgrade() -> None:
    op.create_table(
        "metric_chunk",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("first_step", sa.BigInteger(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("step_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("value_bytes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_chunk")),
    )
    op.create_index(
        "ix_metric_chunk_execution_id_key_first_step",
        "metric_chunk",
        ["execution_id", "key", "first_step"],
    )
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        _fast_compression(conn)
    table = sa.table(
        "metric_chunk",
        sa.column("execution_id"),
        sa.column("key"),
        sa.column("first_step"),
        sa.column("last_step"),
        sa.column("points"),
        sa.column("step_bytes"),
        sa.column("timestamp_bytes"),
        sa.column("value_bytes"),
    )
    for rows in _old_chunks(conn):
        conn.execute(table.insert(), rows)
    op.drop_index("ix_metric_execution_id_key_step", table_name="metric")
    op.drop_table("metric")


def _fast_compression(conn: sa.Connection) -> None:
    """lz4 for the packed columns where the server has it: Postgres' default (pglz) spent
    ~11 ms compressing each 10,000-point chunk, lz4 under 1 ms for nearly the same size.
    Without lz4 (a server built without it), the columns are stored uncompressed, which is
    as fast and takes about 1.5 times the space."""
    columns = ("step_bytes", "timestamp_bytes", "value_bytes")
    try:
        with conn.begin_nested():
            for c in columns:
                conn.execute(
                    sa.text(f"ALTER TABLE metric_chunk ALTER COLUMN {c} SET COMPRESSION lz4")
                )
    except sa.exc.DBAPIError:
        for c in columns:
            conn.execute(sa.text(f"ALTER TABLE metric_chunk ALTER COLUMN {c} SET STORAGE EXTERNAL"))


def _old_chunks(conn: sa.Connection) -> Iterator[list[dict[str, object]]]:
    """The `metric` table's points as chunk rows, a few hundred chunks at a time."""
    query = sa.text(
        'SELECT execution_id, "key", step, "timestamp", value FROM metric '
        'ORDER BY execution_id, "key", step, "timestamp", id'
    )
    out: list[dict[str, object]] = []
    series: tuple[int, str] | None = None
    steps: list[int] = []
    stamps: list[int] = []
    values: list[float] = []

    def close() -> None:
        if steps and series is not None:
            n = len(steps)
            out.append(
                {
                    "execution_id": series[0],
                    "key": series[1],
                    "first_step": steps[0],
                    "last_step": steps[-1],
                    "points": n,
                    "step_bytes": struct.pack(f"<{n}q", *steps),
                    "timestamp_bytes": struct.pack(f"<{n}q", *stamps),
                    "value_bytes": struct.pack(f"<{n}d", *values),
                }
            )
        steps.clear()
        stamps.clear()
        values.clear()

    # Per statement: Connection.execution_options() would stream every later statement too.
    streamed = {"stream_results": True, "yield_per": PER_CHUNK}
    with conn.execute(query, execution_options=streamed) as result:
        for execution_id, key, step, stamp, value in result:
            if (execution_id, key) != series or len(steps) == PER_CHUNK:
                close()
                series = (execution_id, key)
                if len(out) >= 100:
                    yield out
                    out = []
            steps.append(step)
            stamps.append(stamp)
            values.append(float("nan") if value is None else value)
    close()
    if out:
        yield out


def downgrade() -> None:
    op.create_table(
        "metric",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric")),
    )
    op.create_index(
        "ix_metric_execution_id_key_step", "metric", ["execution_id", "key", "step", "timestamp"]
    )
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    table = sa.table(
        "metric",
        sa.column("execution_id"),
        sa.column("key"),
        sa.column("step"),
        sa.column("timestamp"),
        sa.column("value"),
    )
    chunks = conn.execute(
        sa.text(
            'SELECT execution_id, "key", points, step_bytes, timestamp_bytes, value_bytes '
            "FROM metric_chunk ORDER BY id"
        )
    ).all()
    for execution_id, key, n, sb, tb, vb in chunks:
        steps = struct.unpack(f"<{n}q", sb)
        stamps = struct.unpack(f"<{n}q", tb)
        values = struct.unpack(f"<{n}d", vb)
        conn.execute(
            table.insert(),
            [
                {
                    "execution_id": execution_id,
                    "key": key,
                    "step": s,
                    "timestamp": t,
                    "value": None if sqlite and v != v else v,
                }
                for s, t, v in zip(steps, stamps, values, strict=True)
            ],
        )
    op.drop_index("ix_metric_chunk_execution_id_key_first_step", table_name="metric_chunk")
    op.drop_table("metric_chunk")
