"""Run use cases: what training code does through the client, each call one transaction."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict, TypeVar

from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import (
    Artifact,
    Event,
    LatestMetric,
    MetricHistory,
    PackedHistory,
    Page,
    Run,
)
from mlledger.store.errors import FailedPrecondition, InvalidArgument, NotFound
from mlledger.store.metadata import artifacts, audit, contexts, events
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.tables.base import utcnow
from mlledger.store.tracking import idempotency, metrics, runs
from mlledger.store.tracking.runs import Lifecycle, NewRun

from . import rules
from .principal import Principal

MAX_POINTS_PER_BATCH = 100_000
MAX_SERIES_COMPARED = 10_000_000  # points of a series `log_metrics_once` reads to compare
RUN_STATES = ("running", "complete", "failed")


@dataclass(frozen=True, slots=True)
class MetricBatch:
    """Parallel columns, as buffered by the client and carried on the wire."""

    keys: Sequence[str]
    values: Sequence[float]
    steps: Sequence[int]
    timestamps: Sequence[int]


@dataclass(frozen=True, slots=True)
class RunView:
    """A run with the latest value of each of its metrics, read in the same unit of work."""

    run: Run
    metrics: list[LatestMetric]

    def __getattr__(self, name: str) -> Any:
        """The run's own fields, so a schema maps a view as it maps a run (by field name)."""
        return getattr(self.run, name)


def _view(session: Session, run: Run) -> RunView:
    return RunView(run, metrics.latest(session, [run.id])[run.id])


def _audit(
    session: Session, who: Principal, action: str, run: Run, details: dict[str, Any]
) -> None:
    audit.record(
        session, who.project_id, who.actor, [audit.AuditEntry(action, "execution", run.id, details)]
    )


def create(db: Database, who: Principal, spec: NewRun) -> tuple[RunView, bool]:
    """Create the run, or attach to the run with this uuid (created=False)."""
    who.require("write")
    with db.write() as session:
        run, created = runs.create(session, who.project_id, spec)
        if created:
            _audit(
                session, who, "run.create", run, {"uuid": run.uuid, "experiment": spec.experiment}
            )
        return _view(session, run), created


def exists(db: Database, who: Principal, ref: str) -> bool:
    who.require("read")
    with db.read() as session:
        try:
            runs.get(session, who.project_id, ref)
        except NotFound:
            return False
        return True


def get(db: Database, who: Principal, ref: str) -> RunView:
    who.require("read")
    with db.read() as session:
        return _view(session, runs.get(session, who.project_id, ref))


def search(
    db: Database,
    who: Principal,
    *,
    experiments: Sequence[str],
    filter: str | None,
    order_by: str | None,
    limit: int,
    cursor: str | None,
    experiment_ids: Sequence[int] = (),
    lifecycle: Lifecycle = "active",
) -> Page[RunView]:
    """Runs matching `filter` (store/tracking/filters.py), with their latest metrics;
    `experiments` by name and `experiment_ids` by id."""
    who.require("read")
    with db.read() as session:
        page = runs.search(
            session,
            who.project_id,
            experiments=experiments,
            in_experiments=experiment_ids,
            filter=filter,
            order_by=order_by,
            limit=limit,
            cursor=cursor,
            lifecycle=lifecycle,
        )
        latest = metrics.latest(session, [r.id for r in page.items])
        return Page([RunView(r, latest[r.id]) for r in page.items], page.next_cursor)


def require_active(run: Run) -> Run:
    """A deleted run takes no writes until it is restored (MLflow's rule, and the explorer's:
    a deleted run's record is what it was when it was deleted).

    Raises:
        FailedPrecondition: the run is deleted.
    """
    if run.deleted_at is not None:
        raise FailedPrecondition(
            f"The run {run.uuid} must be in the 'active' state. Current state is deleted.",
            details={"run_state": "deleted"},
        )
    return run


def update(
    db: Database,
    who: Principal,
    ref: str,
    *,
    state: Literal["running", "complete", "failed"] | None = None,
    ended_at: datetime | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    remove_tags: Sequence[str] = (),
    name: str | None = None,
    killed: bool = False,
    deleted: bool | None = None,
) -> RunView:
    """Params (set once), tags (merged), the name, the state (`killed`: failed because its
    caller stopped it) and deletion (a mark, restorable), under the run's row lock.

    Raises:
        FailedPrecondition: a param would change value; the run is deleted (and this is not
            its restore).
    """
    who.require("write")
    with db.write() as session:
        run = runs.get(session, who.project_id, ref, for_update=True)
        if deleted is None:
            require_active(run)
        if name is not None and name != run.name:
            run = runs.rename(session, run, name)
        if deleted is not None and deleted != (run.deleted_at is not None):
            run = runs.mark_deleted(session, run, deleted)
            _audit(session, who, "run.delete" if deleted else "run.restore", run, {})
        if params:
            run = runs.log_params(session, run, params)
        if tags or remove_tags:
            run = runs.set_tags(session, run, tags or {}, remove_tags)
        if state is not None:
            if ended_at is not None and ended_at < run.started_at:
                raise FailedPrecondition(
                    "ended_at is before the run started",
                    details={"started_at": run.started_at.isoformat()},
                )
            before = run.state
            run = runs.finish(session, run, state, ended_at or utcnow(), killed=killed)
            if run.state != before:
                _audit(session, who, f"run.{state}", run, {"from": before})
        return _view(session, run)


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


def log_artifact(
    db: Database,
    who: Principal,
    ref: str,
    spec: NewArtifact,
    direction: Literal["INPUT", "OUTPUT"],
    role: str | None,
    input_tags: dict[str, str] | None = None,
) -> tuple[Artifact, bool]:
    """Record a dataset the run read (INPUT) or a file it wrote (OUTPUT), versioned by
    fingerprint; logging the same content again is the same artifact and the same edge.
    `input_tags`: how the run read it, beyond the role (MLflow's dataset input tags).

    Raises:
        InvalidArgument: the edge would close a lineage cycle.
    """
    who.require("write")
    with db.write() as session:
        run = require_active(runs.get(session, who.project_id, ref, for_update=True))
        artifact, created = attach_artifact(session, who, run, spec, direction, role)
        if input_tags:
            runs.tag_input(session, run, artifact.id, input_tags)
        return artifact, created


def attach_artifact(
    session: Session,
    who: Principal,
    run: Run,
    spec: NewArtifact,
    direction: Literal["INPUT", "OUTPUT"],
    role: str | None,
) -> tuple[Artifact, bool]:
    known = None
    if direction == "INPUT" and spec.uri and spec.fingerprint:
        # Data the graph already holds (a training set from `features historical`, another
        # run's output) is that artifact, whatever name this call proposes: its producer and
        # everything upstream stay linked.
        known = artifacts.find_by_content(session, who.project_id, spec.uri, spec.fingerprint)
    if known is not None:
        artifact, created = known, False
    else:
        ((artifact, created),) = artifacts.create_many(session, who.project_id, [spec])
    events.add_many(session, [Event(run.id, artifact.id, direction, role)])
    contexts.attach(session, attributions=[(run.experiment_id, artifact.id)])
    if not created:  # an existing artifact may already be downstream of this run
        rules.refuse_cycles(session, run.id, f"run {run.uuid}")
    if created:
        audit.record(
            session,
            who.project_id,
            who.actor,
            [audit.artifact_created(artifact)],
        )
    return artifact, created


def attach_output(db: Database, who: Principal, ref: str, artifact_id: int) -> None:
    """Make an existing artifact an output of the run (MLflow's `log_outputs`).

    Raises:
        InvalidArgument: the edge would close a lineage cycle.
    """
    who.require("write")
    with db.write() as session:
        run = require_active(runs.get(session, who.project_id, ref, for_update=True))
        artifact = artifacts.get(session, who.project_id, artifact_id)
        events.add_many(session, [Event(run.id, artifact.id, "OUTPUT", None)])
        rules.refuse_cycles(session, run.id, f"run {run.uuid}")


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


@dataclass(frozen=True, slots=True)
class Edge:
    """One of a run's inputs or outputs: the artifact, the edge's role, the input's tags."""

    artifact: Artifact
    role: str | None
    tags: dict[str, str]


def edges_of(
    db: Database, who: Principal, run_ids: Sequence[int]
) -> tuple[dict[int, list[Edge]], dict[int, list[Edge]]]:
    """Each run's inputs and outputs, in three statements (a page's worth)."""
    who.require("read")
    inputs: dict[int, list[Edge]] = {i: [] for i in run_ids}
    outputs: dict[int, list[Edge]] = {i: [] for i in run_ids}
    if not run_ids:
        return inputs, outputs
    with db.read() as session:
        edges = [e for e in events.of_executions(session, run_ids) if e.type in ("INPUT", "OUTPUT")]
        found = artifacts.get_many(session, who.project_id, [e.artifact_id for e in edges])
        tags = runs.input_tags(session, run_ids)
        for e in edges:
            if e.artifact_id in found:
                side = inputs if e.type == "INPUT" else outputs
                given = tags.get(e.execution_id, {}).get(e.artifact_id, {})
                side[e.execution_id].append(Edge(found[e.artifact_id], e.role, given))
    return inputs, outputs


def attach_input(db: Database, who: Principal, ref: str, artifact_id: int) -> None:
    """Make an existing artifact an input of the run (MLflow's model inputs).

    Raises:
        InvalidArgument: the edge would close a lineage cycle (the run made the artifact).
    """
    who.require("write")
    with db.write() as session:
        run = require_active(runs.get(session, who.project_id, ref, for_update=True))
        artifact = artifacts.get(session, who.project_id, artifact_id)
        events.add_many(session, [Event(run.id, artifact.id, "INPUT", None)])
        rules.refuse_cycles(session, run.id, f"run {run.uuid}")
