"""Run use cases: what training code does through the client, each call one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import (
    Artifact,
    Event,
    LatestMetric,
    Page,
    Run,
)
from mlledger.store.errors import FailedPrecondition, NotFound
from mlledger.store.metadata import artifacts, audit, contexts, events
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.tables.base import utcnow
from mlledger.store.tracking import metrics, run_search, runs
from mlledger.store.tracking.runs import Lifecycle, NewRun

from . import rules
from .principal import Principal

RUN_STATES = ("running", "complete", "failed")


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
        page = run_search.search(
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
        rules.refuse_cycles(session, {run.id: f"run {run.uuid}"})
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
        rules.refuse_cycles(session, {run.id: f"run {run.uuid}"})


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
        rules.refuse_cycles(session, {run.id: f"run {run.uuid}"})
