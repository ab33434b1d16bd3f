"""Metric points: written as chunks (a row per batch and key, store/tracking/chunks.py), read
back as whole or downsampled series.

A batch arrives as parallel columns (keys, values, steps, timestamps), the shape the client
buffers and the wire carries, and is packed into arrays without a per-point object.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from ..entities import LatestMetric, MetricHistory, PackedHistory
from ..metadata import bulk
from ..tables import LatestMetricRow, MetricChunkRow
from . import chunks

NAN = float("nan")


def insert(
    session: Session,
    execution_id: int,
    keys: Sequence[str],
    values: Sequence[float],
    steps: Sequence[int],
    timestamps: Sequence[int],
    *,
    experiment_id: int | None,
) -> None:
    """Append points and move each key's latest value forward, in the caller's transaction
    (`experiment_id`: the run's, kept beside the latest values for search's index)."""
    if not keys:
        return
    packed = chunks.pack(keys, values, steps, timestamps)
    session.execute(
        sa.insert(MetricChunkRow),
        [
            {
                "execution_id": execution_id,
                "key": c.key,
                "first_step": c.first_step,
                "last_step": c.last_step,
                "points": c.points,
                "step_bytes": c.steps,
                "timestamp_bytes": c.timestamps,
                "value_bytes": c.values,
            }
            for c in packed
        ],
    )
    _advance_latest(session, execution_id, experiment_id, packed)


def _advance_latest(
    session: Session, execution_id: int, experiment_id: int | None, packed: list[chunks.Chunk]
) -> None:
    # Chunks come in key order: concurrent batches lock the same rows in the same order, no
    # deadlock. NaN is NULL here on both databases (SQLite has no NaN; Postgres' compares
    # greater than every number), so search's comparisons and orders treat it alike: it matches
    # nothing and sorts last. It reads back as NaN (`latest`).
    rows = [
        {
            "execution_id": execution_id,
            "key": c.key,
            "experiment_id": experiment_id,
            "step": c.last_step,
            "timestamp": c.last_timestamp,
            "value": None if c.last_value != c.last_value else c.last_value,
        }
        for c in packed
    ]
    table = bulk.table_of(LatestMetricRow)
    for part in bulk.chunks(rows, 1000):
        stmt = bulk.dialect_insert(session)(table).values(list(part))
        stmt = stmt.on_conflict_do_update(
            index_elements=["execution_id", "key"],
            set_={
                "step": stmt.excluded.step,
                "timestamp": stmt.excluded.timestamp,
                "value": stmt.excluded.value,
            },
            where=tuple_(stmt.excluded.step, stmt.excluded.timestamp)
            >= tuple_(table.c.step, table.c.timestamp),
        )
        session.execute(stmt)


def latest(session: Session, execution_ids: Sequence[int]) -> dict[int, list[LatestMetric]]:
    out: dict[int, list[LatestMetric]] = {i: [] for i in execution_ids}
    for part in bulk.chunks(sorted(set(execution_ids))):
        rows = session.execute(  # columns, not mapped objects: 500 of them cost milliseconds
            select(
                LatestMetricRow.execution_id,
                LatestMetricRow.key,
                LatestMetricRow.value,
                LatestMetricRow.step,
                LatestMetricRow.timestamp,
            )
            .where(LatestMetricRow.execution_id.in_(part))
            .order_by(LatestMetricRow.execution_id, LatestMetricRow.key)
        )
        for execution_id, key, value, step, timestamp in rows:
            out[execution_id].append(
                LatestMetric(key, NAN if value is None else value, step, timestamp)
            )
    return out


def history(
    session: Session,
    execution_id: int,
    key: str,
    *,
    max_points: int,
    min_step: int | None = None,
    max_step: int | None = None,
) -> MetricHistory:
    """The series in (step, timestamp) order; above `max_points` points, averaged into at most
    `max_points` equal step buckets (with each bucket's min and max; NaN points left out)."""
    total, found = _read(session, execution_id, key, max_points, min_step, max_step)
    if isinstance(found, chunks.Series):
        return MetricHistory(
            key=key,
            steps=found.steps.tolist(),
            timestamps=found.timestamps.tolist(),
            values=found.values.tolist(),
            total=total,
            downsampled=False,
        )
    return MetricHistory(
        key=key,
        steps=found.steps.tolist(),
        timestamps=found.timestamps.tolist(),
        values=found.means.tolist(),
        mins=found.mins.tolist(),
        maxs=found.maxs.tolist(),
        total=total,
        downsampled=True,
    )


def packed_history(
    session: Session,
    execution_id: int,
    key: str,
    *,
    max_points: int,
    min_step: int | None = None,
    max_step: int | None = None,
) -> PackedHistory:
    """`history` as little-endian columns (see PackedHistory)."""
    total, found = _read(session, execution_id, key, max_points, min_step, max_step)
    if isinstance(found, chunks.Series):
        arrays = [found.steps, found.timestamps, found.values]
    else:
        arrays = [found.steps, found.timestamps, found.means, found.mins, found.maxs]
    return PackedHistory(
        key=key,
        total=total,
        downsampled=isinstance(found, chunks.Buckets),
        columns=[chunks.little_endian(a) for a in arrays],
    )


def _read(
    session: Session,
    execution_id: int,
    key: str,
    max_points: int,
    min_step: int | None,
    max_step: int | None,
) -> tuple[int, chunks.Series | chunks.Buckets]:
    """(points in the range, the points or their buckets)."""
    where = [MetricChunkRow.execution_id == execution_id, MetricChunkRow.key == key]
    if min_step is not None:
        where.append(MetricChunkRow.last_step >= min_step)
    if max_step is not None:
        where.append(MetricChunkRow.first_step <= max_step)
    query = (
        select(
            MetricChunkRow.step_bytes, MetricChunkRow.timestamp_bytes, MetricChunkRow.value_bytes
        )
        .where(*where)
        .order_by(MetricChunkRow.id)  # as written: the stable merge keeps ties in logged order
    )
    series = chunks.window(chunks.unpack(_byte_rows(session, query)), min_step, max_step)
    total = len(series.steps)
    if total <= max_points:
        return total, series
    return total, chunks.downsample(series, max_points)


def _byte_rows(
    session: Session, query: Select[bytes, bytes, bytes]
) -> Sequence[tuple[bytes, bytes, bytes]]:
    """The rows, with Postgres asked for its binary format: bytea as text is hex, twice the
    bytes to send and decode (a 100,000-point read took twice as long)."""
    if session.get_bind().dialect.name != "postgresql":
        return [(s, t, v) for s, t, v in session.execute(query)]
    compiled = query.compile(dialect=session.get_bind().dialect)
    raw = session.connection().connection.driver_connection
    assert raw is not None  # a checked-out connection has its driver's
    with raw.cursor(binary=True) as cursor:
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()
