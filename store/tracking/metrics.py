"""Metric points: written in bulk (COPY on Postgres), read back as whole or downsampled series.

A batch arrives as parallel columns (keys, values, steps, timestamps) — the shape the client
buffers and the wire carries — so no per-point object is built between the socket and COPY.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Text, cast, func, literal_column, select, tuple_
from sqlalchemy.orm import Session

from ..entities import LatestMetric, MetricHistory
from ..metadata import bulk
from ..tables import LatestMetricRow, MetricRow

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
    if session.get_bind().dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection
        assert raw is not None  # a checked-out connection has its driver's
        with (
            raw.cursor() as cursor,
            cursor.copy(
                'COPY metric (execution_id, "key", step, "timestamp", value) FROM STDIN'
            ) as copy,
        ):
            for row in zip(keys, steps, timestamps, values, strict=True):
                copy.write_row((execution_id, *row))
    else:
        rows = [
            {
                "execution_id": execution_id,
                "key": k,
                "step": s,
                "timestamp": t,
                # SQLite has no NaN: it would store NULL anyway, say so explicitly.
                "value": None if v != v else v,
            }
            for k, v, s, t in zip(keys, values, steps, timestamps, strict=True)
        ]
        for part in bulk.chunks(rows):
            session.execute(bulk.table_of(MetricRow).insert(), list(part))
    _advance_latest(session, execution_id, experiment_id, keys, values, steps, timestamps)


def _advance_latest(
    session: Session,
    execution_id: int,
    experiment_id: int | None,
    keys: Sequence[str],
    values: Sequence[float],
    steps: Sequence[int],
    timestamps: Sequence[int],
) -> None:
    best: dict[str, tuple[int, int, float]] = {}
    for k, v, s, t in zip(keys, values, steps, timestamps, strict=True):
        current = best.get(k)
        if current is None or (s, t) >= current[:2]:
            best[k] = (s, t, v)
    # Keys in sorted order: concurrent batches lock the same rows in the same order, no deadlock.
    # NaN is NULL here on both databases (SQLite has no NaN; Postgres' compares greater than
    # every number), so search's comparisons and orders treat it alike: it matches nothing and
    # sorts last. It reads back as NaN (`latest`).
    rows = [
        {
            "execution_id": execution_id,
            "key": k,
            "experiment_id": experiment_id,
            "step": s,
            "timestamp": t,
            "value": None if v != v else v,
        }
        for k, (s, t, v) in sorted(best.items())
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
        rows = session.execute(
            select(LatestMetricRow)
            .where(LatestMetricRow.execution_id.in_(part))
            .order_by(LatestMetricRow.execution_id, LatestMetricRow.key)
        ).scalars()
        for r in rows:
            out[r.execution_id].append(
                LatestMetric(r.key, NAN if r.value is None else r.value, r.step, r.timestamp)
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
    `max_points` equal step buckets (with each bucket's min and max)."""
    where = [MetricRow.execution_id == execution_id, MetricRow.key == key]
    if min_step is not None:
        where.append(MetricRow.step >= min_step)
    if max_step is not None:
        where.append(MetricRow.step <= max_step)
    total, lo, hi = session.execute(
        select(func.count(), func.min(MetricRow.step), func.max(MetricRow.step)).where(*where)
    ).one()
    if total <= max_points and session.get_bind().dialect.name == "postgresql":
        # The database builds the columns as one JSON document: no row object per point (100k
        # points in tens of milliseconds). Postgres writes NaN/Infinity as "NaN"/"Infinity".
        ordered = (
            select(MetricRow.step, MetricRow.timestamp, MetricRow.value)
            .where(*where)
            .order_by(MetricRow.step, MetricRow.timestamp)
            .subquery()
        )
        # Aggregating an ordered subquery keeps its order (one index scan, no sort per column).
        encoded = session.execute(
            select(
                cast(
                    func.json_build_object(
                        "steps",
                        _agg(ordered.c.step),
                        "timestamps",
                        _agg(ordered.c.timestamp),
                        "values",
                        _agg(ordered.c.value),
                    ),
                    Text,
                )
            )
        ).scalar_one()
        cols = orjson.loads(encoded)  # in C: no SQLAlchemy row per point
        values = cols["values"]
        if any(isinstance(v, str) for v in values):  # "NaN", "Infinity", "-Infinity"
            values = [float(v) for v in values]
        return MetricHistory(
            key=key,
            steps=cols["steps"],
            timestamps=cols["timestamps"],
            values=values,
            total=total,
            downsampled=False,
        )
    if total <= max_points:
        rows = session.execute(
            select(MetricRow.step, MetricRow.timestamp, MetricRow.value)
            .where(*where)
            .order_by(MetricRow.step, MetricRow.timestamp)
        ).all()
        return MetricHistory(
            key=key,
            steps=[r[0] for r in rows],
            timestamps=[r[1] for r in rows],
            values=[NAN if r[2] is None else r[2] for r in rows],
            total=total,
            downsampled=False,
        )
    width = max(1, math.ceil((hi - lo + 1) / max_points))
    bucket = (MetricRow.step - lo) // width
    rows = session.execute(
        select(
            func.min(MetricRow.step),
            func.max(MetricRow.timestamp),
            func.avg(MetricRow.value),
            func.min(MetricRow.value),
            func.max(MetricRow.value),
        )
        .where(*where)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    buckets: list[tuple[Any, ...]] = [tuple(r) for r in rows]
    return MetricHistory(
        key=key,
        steps=[b[0] for b in buckets],
        timestamps=[b[1] for b in buckets],
        values=[NAN if b[2] is None else float(b[2]) for b in buckets],
        mins=[NAN if b[3] is None else b[3] for b in buckets],
        maxs=[NAN if b[4] is None else b[4] for b in buckets],
        total=total,
        downsampled=True,
    )


def _agg(column: Any) -> Any:
    return func.coalesce(func.json_agg(column), literal_column("'[]'::json"))
