"""Recording executions with their inputs, outputs and contexts — atomically, as MLMD's
`put_execution` does — and moving them through their states."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Context, Event, Execution, Page
from mlledger.store.errors import FailedPrecondition, InvalidArgument, NotFound
from mlledger.store.metadata import artifacts, audit, contexts, events, executions
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.contexts import NewContext
from mlledger.store.metadata.executions import NewExecution
from mlledger.store.tables.base import utcnow

from . import rules
from .principal import Principal

TERMINAL_STATES = frozenset({"complete", "failed", "cached"})


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """One end of an event: an existing artifact, a new one, or an earlier output of the batch.

    Exactly one of `id`, `new` and `ref` is set. `label` names a new artifact so that a later
    execution of the same batch can consume it by `ref`.
    """

    id: int | None = None
    new: NewArtifact | None = None
    ref: str | None = None
    label: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    execution: NewExecution
    inputs: Sequence[ArtifactRef] = ()
    outputs: Sequence[ArtifactRef] = ()
    contexts: Sequence[NewContext | int] = ()


@dataclass(frozen=True, slots=True)
class RecordedExecution:
    execution: Execution
    inputs: list[tuple[Artifact, str | None]] = field(default_factory=list)
    outputs: list[tuple[Artifact, str | None]] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)


def record(
    db: Database, who: Principal, records: Sequence[ExecutionRecord]
) -> list[RecordedExecution]:
    """Record executions with their events and contexts in ONE transaction.

    Raises:
        NotFound: an input, output or context id is not in the caller's project.
        InvalidArgument: a `ref` names no earlier output, a label repeats, an artifact is both
            input and output of one execution, or the events would close a cycle.
        AlreadyExists: a new artifact's name belongs to an artifact of another kind.
    """
    who.require("write")
    with db.write() as session:
        return record_in(session, who, records)


def record_in(
    session: Session, who: Principal, records: Sequence[ExecutionRecord]
) -> list[RecordedExecution]:
    """`record` inside a unit of work the caller holds (a use case that writes more beside the
    lineage in the same transaction)."""
    if not records:
        raise InvalidArgument("no executions given")
    for r in records:
        _check_times(r.execution.started_at, r.execution.ended_at)
    resolved, fresh = _resolve_artifacts(session, who, records)
    ctx, fresh_contexts = _resolve_contexts(session, who, records)
    created = executions.create_many(session, who.project_id, [r.execution for r in records])

    edges: list[Event] = []
    results: list[RecordedExecution] = []
    attributions: set[tuple[int, int]] = set()
    associations: set[tuple[int, int]] = set()
    for i, execution in enumerate(created):
        ins, outs = resolved[i]
        overlap = {a.id for a, _ in ins} & {a.id for a, _ in outs}
        if overlap:
            raise FailedPrecondition(
                f"executions[{i}]: artifact {min(overlap)} is both input and output; "
                "that would be a cycle",
                details={"execution": i, "artifact_ids": sorted(overlap)},
            )
        edges += [Event(execution.id, a.id, "INPUT", role) for a, role in ins]
        edges += [Event(execution.id, a.id, "OUTPUT", role) for a, role in outs]
        for c in ctx[i]:
            associations.add((c.id, execution.id))
            attributions.update((c.id, a.id) for a, _ in (*ins, *outs))
        results.append(RecordedExecution(execution, ins, outs, ctx[i]))
    events.add_many(session, _dedupe(edges), fresh=True)
    contexts.attach(session, associations=associations, attributions=attributions)

    # Only an existing artifact given as an output can close a cycle; check after the
    # batch's own edges are in, so a cycle through the batch is seen too.
    rules.refuse_cycles(
        session,
        {
            created[i].id: f"executions[{i}]"
            for i, rec in enumerate(records)
            if any(o.id is not None for o in rec.outputs)
        },
    )

    entries = [
        audit.AuditEntry("execution.create", "execution", e.id, {"name": e.name, "kind": e.kind})
        for e in created
    ]
    entries += [audit.artifact_created(a) for a in fresh]
    entries += [
        audit.AuditEntry("context.create", "context", c.id, {"kind": c.kind, "name": c.name})
        for c in {c.id: c for cs in ctx for c in cs}.values()
        if c.id in fresh_contexts
    ]
    audit.record(session, who.project_id, who.actor, entries)
    return results


def add_events(
    db: Database,
    who: Principal,
    execution_id: int,
    inputs: Sequence[ArtifactRef],
    outputs: Sequence[ArtifactRef],
) -> RecordedExecution:
    """Add inputs/outputs to an existing execution (a run that logs its model at the end);
    returns the execution with all its events, as committed.

    Raises:
        NotFound: unknown execution or artifact id.
        FailedPrecondition: the execution has ended.
        InvalidArgument: the new events would close a cycle.
    """
    who.require("write")
    if not inputs and not outputs:
        raise InvalidArgument("give at least one input or output")
    with db.write() as session:
        execution = executions.get(session, who.project_id, execution_id, for_update=True)
        if execution.state in TERMINAL_STATES:
            raise FailedPrecondition(
                f"execution {execution_id} is {execution.state}; events can only be added "
                "while it is running",
                details={"execution_id": execution_id, "state": execution.state},
            )
        rec = ExecutionRecord(
            execution=NewExecution(kind="other", name=""), inputs=inputs, outputs=outputs
        )
        ((ins, outs),), fresh = _resolve_artifacts(session, who, [rec])
        edges = [Event(execution.id, a.id, "INPUT", role) for a, role in ins]
        edges += [Event(execution.id, a.id, "OUTPUT", role) for a, role in outs]
        events.add_many(session, _dedupe(edges))
        rules.refuse_cycles(session, {execution.id: f"execution {execution.id}"})
        ctx = contexts.for_executions(session, [execution.id])[execution.id]
        contexts.attach(
            session,
            attributions={(c.id, a.id) for c in ctx for a, _ in (*ins, *outs)},
        )
        entries = [
            audit.AuditEntry(
                "execution.add_events",
                "execution",
                execution.id,
                {"inputs": [a.id for a, _ in ins], "outputs": [a.id for a, _ in outs]},
            )
        ]
        entries += [audit.artifact_created(a) for a in fresh]
        audit.record(session, who.project_id, who.actor, entries)
        return _load(session, who.project_id, execution)


def update(
    db: Database,
    who: Principal,
    execution_id: int,
    *,
    state: str | None,
    ended_at: datetime | None,
    properties: dict | None,
) -> Execution:
    """Move an execution on; an ended execution (complete, failed, cached) cannot change state.

    Raises:
        FailedPrecondition: the state change is not allowed.
    """
    who.require("write")
    with db.write() as session:
        current = executions.get(session, who.project_id, execution_id, for_update=True)
        if state is not None and state != current.state and current.state in TERMINAL_STATES:
            raise FailedPrecondition(
                f"execution {execution_id} is {current.state} and cannot become {state}",
                details={"from": current.state, "to": state},
            )
        if state in TERMINAL_STATES and ended_at is None and current.ended_at is None:
            ended_at = utcnow()
        _check_times(current.started_at, ended_at, stored=True)
        before, after = executions.update(
            session,
            who.project_id,
            execution_id,
            state=state,
            ended_at=ended_at,
            properties=properties,
        )
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "execution.update",
                    "execution",
                    execution_id,
                    {"state": [before.state, after.state]},
                )
            ],
        )
        return after


def get(db: Database, who: Principal, execution_id: int) -> RecordedExecution:
    who.require("read")
    with db.read() as session:
        return _load(session, who.project_id, executions.get(session, who.project_id, execution_id))


def _load(session: Session, project_id: int, execution: Execution) -> RecordedExecution:
    """An execution with all its inputs, outputs (and roles) and contexts."""
    evs = events.of_executions(session, [execution.id])
    arts = artifacts.get_many(session, project_id, [e.artifact_id for e in evs])
    return RecordedExecution(
        execution,
        inputs=[(arts[e.artifact_id], e.role) for e in evs if e.type == "INPUT"],
        outputs=[(arts[e.artifact_id], e.role) for e in evs if e.type == "OUTPUT"],
        contexts=contexts.for_executions(session, [execution.id])[execution.id],
    )


def list_page(
    db: Database,
    who: Principal,
    *,
    kind: str | None,
    name: str | None,
    state: str | None,
    context_id: int | None,
    limit: int,
    cursor: str | None,
) -> Page[Execution]:
    who.require("read")
    with db.read() as session:
        return executions.list_page(
            session,
            who.project_id,
            kind=kind,
            name=name,
            state=state,
            context_id=context_id,
            limit=limit,
            cursor=cursor,
        )


Resolved = tuple[list[tuple[Artifact, str | None]], list[tuple[Artifact, str | None]]]


def _resolve_artifacts(
    session: Session, who: Principal, records: Sequence[ExecutionRecord]
) -> tuple[list[Resolved], list[Artifact]]:
    """Turn every ArtifactRef of the batch into an artifact, creating new ones in one call.

    Returns the resolved (inputs, outputs) per record and the artifacts newly created.
    """
    wanted_ids: set[int] = set()
    specs: list[NewArtifact] = []
    labels: dict[str, int] = {}  # label -> index of the record that defines it
    for i, rec in enumerate(records):
        for side, refs in (("inputs", rec.inputs), ("outputs", rec.outputs)):
            for j, ref in enumerate(refs):
                where = f"executions[{i}].{side}[{j}]"
                given = [x is not None for x in (ref.id, ref.new, ref.ref)]
                if sum(given) != 1:
                    raise InvalidArgument(f"{where}: give exactly one of id, artifact or ref")
                if ref.id is not None:
                    wanted_ids.add(ref.id)
                if ref.new is not None:
                    specs.append(ref.new)
                if ref.label is not None:
                    if ref.new is None:
                        raise InvalidArgument(f"{where}: a label names a new artifact only")
                    if ref.label in labels:
                        raise InvalidArgument(f"{where}: label {ref.label!r} is used twice")
                    labels[ref.label] = i
                if ref.ref is not None and (ref.ref not in labels or labels[ref.ref] >= i):
                    raise InvalidArgument(
                        f"{where}: ref {ref.ref!r} names no output of an earlier execution "
                        "in this request",
                        details={"ref": ref.ref},
                    )
    existing = artifacts.get_many(session, who.project_id, sorted(wanted_ids))
    missing = sorted(wanted_ids - existing.keys())
    if missing:
        raise NotFound(
            f"artifact {missing[0]} does not exist"
            if len(missing) == 1
            else f"artifacts {missing} do not exist",
            details={"artifact_ids": missing},
        )
    made = iter(artifacts.create_many(session, who.project_id, specs))
    by_label: dict[str, Artifact] = {}
    fresh_artifacts: list[Artifact] = []
    out: list[Resolved] = []
    for rec in records:
        sides: list[list[tuple[Artifact, str | None]]] = []
        for refs in (rec.inputs, rec.outputs):
            pairs: list[tuple[Artifact, str | None]] = []
            for ref in refs:
                if ref.id is not None:
                    artifact = existing[ref.id]
                elif ref.new is not None:
                    artifact, fresh = next(made)
                    if fresh:
                        fresh_artifacts.append(artifact)
                    if ref.label is not None:
                        by_label[ref.label] = artifact
                else:
                    artifact = by_label[ref.ref]  # type: ignore[index]
                pairs.append((artifact, ref.role))
            sides.append(pairs)
        out.append((sides[0], sides[1]))
    return out, fresh_artifacts


def _resolve_contexts(
    session: Session, who: Principal, records: Sequence[ExecutionRecord]
) -> tuple[list[list[Context]], set[int]]:
    """The contexts of each record, and the ids of those created here."""
    ids = sorted({c for r in records for c in r.contexts if isinstance(c, int)})
    found = contexts.get_many(session, who.project_id, ids)
    missing = sorted(set(ids) - found.keys())
    if missing:
        raise NotFound(f"context {missing[0]} does not exist", details={"context_ids": missing})
    specs = [c for r in records for c in r.contexts if not isinstance(c, int)]
    ensured, fresh = contexts.ensure_many(session, who.project_id, specs)
    made = iter(ensured)
    out = []
    for r in records:
        ctx = [found[c] if isinstance(c, int) else next(made) for c in r.contexts]
        out.append(list({c.id: c for c in ctx}.values()))
    return out, fresh


def _dedupe(edges: list[Event]) -> list[Event]:
    seen: dict[tuple[int, int, str], Event] = {}
    for e in edges:
        seen.setdefault((e.execution_id, e.artifact_id, e.type), e)
    return list(seen.values())


def _check_times(started: datetime | None, ended: datetime | None, *, stored: bool = False) -> None:
    """`stored`: `started` is the execution's recorded start, so an earlier end conflicts
    with the execution as it is (409), rather than contradicting the request itself."""
    if started is not None and ended is not None and ended < started:
        raise (FailedPrecondition if stored else InvalidArgument)(
            "ended_at is before started_at",
            details={"started_at": started.isoformat(), "ended_at": ended.isoformat()},
        )
