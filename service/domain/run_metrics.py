"""Run metric use cases: appending points (idempotent by key, or once per distinct point), the
latest values, and a series' history whole, windowed or downsampled."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict, TypeVar

from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import LatestMetric, MetricHistory, PackedHistory
from mlledger.store.errors import InvalidArgument
from mlledger.store.tracking import idempotency, metrics, runs

from .principal import Principal
from .runs import require_active

MAX_POINTS_PER_BATCH = 100_000
MAX_SERIES_COMPARED = 10_000_000  # points of a series `log_metrics_once` reads to compare


@dataclass(frozen=True, slots=True)
class MetricBatch:
    """Parallel columns, as buffered by the client and carried on the wire."""

    keys: Sequence[str]
    values: Sequence[float]
    steps: Sequence[int]
    timestamps: Sequence[int]


def log_metrics(
    db: Database, who: Principal, ref: str, batch: MetricBatch, idempotency_key: str | None
) -> dict[str, int | bool]:
    """Append a batch of points in one statement; a retry with the same key is a no-op.

    Returns {"accepted": n, "duplicate": bool}.
    """
    who.require("write")
    _check_batch(batch)
    with db.write() as session:
        run = require_active(runs.get(session, who.project_id, ref))
        if idempotency_key is not None:
            previous = idempotency.claim(session, who.project_id, idempotency_key, "run.metrics")
            if previous is not None:
                return {**previous, "duplicate": True}
        metrics.insert(
            session,
            run.id,
            batch.keys,
            batch.values,
            batch.steps,
            batch.timestamps,
            experiment_id=run.experiment_id,
        )
        answer = {"accepted": len(batch.keys)}
        if idempotency_key is not None:
            idempotency.answer(session, who.project_id, idempotency_key, answer)
        return {**answer, "duplicate": False}


def _check_batch(batch: MetricBatch) -> None:
    n = len(batch.keys)
    if not (len(batch.values) == len(batch.steps) == len(batch.timestamps) == n):
        raise InvalidArgument(
            "keys, values, steps and timestamps must have the same length",
            details={
                "keys": n,
                "values": len(batch.values),
                "steps": len(batch.steps),
                "timestamps": len(batch.timestamps),
            },
        )
    if n == 0:
        raise InvalidArgument("the batch holds no points")
    if n > MAX_POINTS_PER_BATCH:
        raise InvalidArgument(
            f"{n} points in one batch; the limit is {MAX_POINTS_PER_BATCH}",
            details={"points": n, "limit": MAX_POINTS_PER_BATCH},
        )


def latest_metrics(db: Database, who: Principal, ref: str) -> list[LatestMetric]:
    who.require("read")
    with db.read() as session:
        run = runs.get(session, who.project_id, ref)
        return metrics.latest(session, [run.id])[run.id]


def history(
    db: Database,
    who: Principal,
    ref: str,
    key: str,
    *,
    max_points: int,
    min_step: int | None = None,
    max_step: int | None = None,
) -> MetricHistory:
    """A metric's points in step order, or above `max_points` its step buckets."""
    bounds = _Bounds(max_points=max_points, min_step=min_step, max_step=max_step)
    return _of_run(db, who, ref, lambda s, run_id: metrics.history(s, run_id, key, **bounds))


def packed_history(
    db: Database,
    who: Principal,
    ref: str,
    key: str,
    *,
    max_points: int,
    min_step: int | None = None,
    max_step: int | None = None,
) -> PackedHistory:
    """`history` as little-endian columns, for a transport that sends bytes."""
    bounds = _Bounds(max_points=max_points, min_step=min_step, max_step=max_step)
    return _of_run(db, who, ref, lambda s, run_id: metrics.packed_history(s, run_id, key, **bounds))


class _Bounds(TypedDict):
    max_points: int
    min_step: int | None
    max_step: int | None


T = TypeVar("T")


def _of_run(db: Database, who: Principal, ref: str, read: Callable[[Session, int], T]) -> T:
    """`read` of the run `ref`, in one read unit of work."""
    who.require("read")
    with db.read() as session:
        return read(session, runs.get(session, who.project_id, ref).id)


def log_metrics_once(db: Database, who: Principal, ref: str, batch: MetricBatch) -> int:
    """Append the points the run does not hold yet: MLflow 3 re-sends a run's metrics with the
    id of the model logged from it, and a re-sent point must not count twice in the history.
    Returns how many were new."""
    who.require("write")
    _check_batch(batch)
    with db.write() as session:
        run = require_active(runs.get(session, who.project_id, ref, for_update=True))
        held: set[tuple[str, int, int, bytes]] = set()
        for key in set(batch.keys):
            series = metrics.history(session, run.id, key, max_points=MAX_SERIES_COMPARED)
            held.update(
                (key, s, t, struct.pack("<d", v))
                for s, t, v in zip(series.steps, series.timestamps, series.values, strict=True)
            )
        new = [
            (k, v, s, t)
            for k, v, s, t in zip(
                batch.keys, batch.values, batch.steps, batch.timestamps, strict=True
            )
            if (k, s, t, struct.pack("<d", v)) not in held
        ]
        if new:
            keys, values, steps, stamps = (list(c) for c in zip(*new, strict=True))
            metrics.insert(
                session, run.id, keys, values, steps, stamps, experiment_id=run.experiment_id
            )
        return len(new)
