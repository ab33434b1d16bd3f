"""OpenLineage events into the one graph: a job is a `pipeline` context, a run an execution in
it (its state from the event type, its parent from ParentRunFacet), a dataset an artifact
series named by where its data lives. Each output of a run is a new version of its dataset;
an input binds to the version current at the event's time — so a job that reads and writes one
table reads the version before its own. Events of one run merge in any order (a START after the
COMPLETE does not reopen it); the same event twice is stored once and changes nothing.

A batch of events is one transaction mapped set-wise (openlineage_runs, openlineage_datasets):
its statements do not grow with its size, which is what makes a producer's backlog cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Event, Page
from mlledger.store.metadata import artifacts, audit, contexts, events, lineage_events
from mlledger.store.metadata.lineage_events import NewEvent, StoredEvent

from . import rules
from .openlineage_datasets import Dataset, Datasets, Version, fingerprint, series_of
from .openlineage_runs import Jobs, RunEvent, parent_job, resolve_runs
from .principal import Principal

MAX_BATCH = 1000  # events one request may carry


@dataclass(frozen=True, slots=True)
class LineageEvent:
    """A parsed event (the transport checked its shape); `body` is what arrived, kept as is."""

    kind: str  # run | job | dataset
    event_type: str | None
    event_time: datetime
    producer: str
    body: dict[str, Any]
    run_id: str | None = None
    run_facets: dict[str, Any] = field(default_factory=dict)
    job: tuple[str, str] | None = None
    job_facets: dict[str, Any] = field(default_factory=dict)
    inputs: Sequence[Dataset] = ()
    outputs: Sequence[Dataset] = ()
    dataset: Dataset | None = None


@dataclass(frozen=True, slots=True)
class Ingested:
    event_id: int | None  # None: the same event was stored before, nothing changed
    execution_id: int | None
    job_id: int | None
    inputs: list[int]
    outputs: list[int]


REPEAT = Ingested(None, None, None, [], [])


def digest_of(body: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def ingest(db: Database, who: Principal, event: LineageEvent) -> Ingested:
    """Store one event and map it (see ingest_many)."""
    (done,) = ingest_many(db, who, [event])
    return done


def ingest_many(db: Database, who: Principal, batch: Sequence[LineageEvent]) -> list[Ingested]:
    """Store the events and map them in arrival order, in one transaction: a failure of any
    stores none. Each answer is REPEAT for an event stored before (or earlier in the batch).

    Raises:
        FailedPrecondition: a run would read what it wrote (lineage stays acyclic).
    """
    who.require("write")
    with db.write() as session:
        ids = lineage_events.add_many(session, who.project_id, [_row(e) for e in batch])
        fresh = [(i, e) for i, e in zip(ids, batch, strict=True) if i is not None]
        if not fresh:
            return [REPEAT] * len(batch)

        jobs = Jobs()
        for _, e in fresh:
            if e.job is not None:
                jobs.name(e.job, e.job_facets)
                if e.kind == "job":
                    jobs.declare(e.job, e.inputs, e.outputs)
            parent = parent_job(e.run_facets)
            if e.run_id is not None and parent is not None:
                jobs.name(parent)
        jobs.resolve(session, who)
        runs, made = resolve_runs(session, who, [r for _, e in fresh if (r := _run_part(e))], jobs)

        data = Datasets.load(session, who, [u for _, e in fresh for u in _uses(e)])
        mapped: list[tuple[int, LineageEvent, list[Version], list[Version], Version | None]] = []
        for i, e in fresh:
            ins = [data.read(d, e.event_time, run_id=e.run_id) for d in e.inputs]
            outs = [data.write(d, e.run_id, e.event_time) for d in e.outputs if e.run_id]
            seen = data.read(e.dataset, e.event_time, facets=True) if e.dataset else None
            mapped.append((i, e, ins, outs, seen))
        data.flush(session)

        edges: set[Event] = set()
        attributions: set[tuple[int, int]] = set()
        for _, e, ins, outs, _ in mapped:
            if e.run_id is None:
                continue
            run = runs[e.run_id]
            edges.update(Event(run, v.artifact_id, "INPUT", None) for v in ins)
            edges.update(Event(run, v.artifact_id, "OUTPUT", None) for v in outs)
            if e.job is not None:
                attributions.update((jobs.ids[e.job], v.artifact_id) for v in outs)
        ordered = sorted(edges, key=_edge_order)
        events.add_many(session, ordered)
        contexts.attach(session, attributions=attributions)
        rules.refuse_cycles(
            session,
            {runs[e.run_id]: f"OpenLineage run {e.run_id}" for _, e, *_ in mapped if e.run_id},
            edges=ordered,
            fresh_executions=made,
            fresh_artifacts=data.created,
        )
        audit.record(session, who.project_id, who.actor, [_audit(m, runs, jobs) for m in mapped])

        answers = {
            i: Ingested(
                i,
                runs.get(e.run_id) if e.run_id else None,
                jobs.ids.get(e.job) if e.job else None,
                [v.artifact_id for v in ins],
                [v.artifact_id for v in outs],
            )
            for i, e, ins, outs, _ in mapped
        }
        return [REPEAT if i is None else answers[i] for i in ids]


def _row(e: LineageEvent) -> NewEvent:
    return NewEvent(
        digest=digest_of(e.body),
        event_kind=e.kind,
        event_type=e.event_type,
        event_time=e.event_time,
        run_id=e.run_id,
        job=e.job,
        body=e.body,
    )


def _run_part(e: LineageEvent) -> RunEvent | None:
    if e.run_id is None or e.job is None:
        return None
    return RunEvent(e.run_id, e.job, e.event_type, e.event_time, e.producer, e.run_facets)


def _uses(e: LineageEvent) -> list[tuple[Dataset, str | None]]:
    """The event's datasets in the order they are mapped, each with its written fingerprint."""
    uses: list[tuple[Dataset, str | None]] = [(d, None) for d in e.inputs]
    if e.run_id:
        uses += [(d, fingerprint(d, e.run_id)) for d in e.outputs]
    return uses + ([(e.dataset, None)] if e.dataset else [])


def _edge_order(e: Event) -> tuple[int, str, int]:
    return (e.execution_id, e.type, e.artifact_id)


def _audit(
    mapped: tuple[int, LineageEvent, list[Version], list[Version], Version | None],
    runs: dict[str, int],
    jobs: Jobs,
) -> audit.AuditEntry:
    stored, e, _, _, seen = mapped
    if e.run_id is not None:
        node = ("execution", runs[e.run_id])
    elif seen is not None:
        node = ("artifact", seen.artifact_id)
    else:
        node = ("context", jobs.ids[e.job] if e.job else 0)
    details = {"event": stored, "type": e.event_type, "run": e.run_id}
    return audit.AuditEntry("lineage.event", node[0], node[1], details)


def list_events(
    db: Database,
    who: Principal,
    *,
    run_id: str | None,
    job: tuple[str, str] | None,
    limit: int,
    cursor: str | None,
) -> Page[StoredEvent]:
    who.require("read")
    with db.read() as session:
        return lineage_events.list_page(
            session, who.project_id, run_id=run_id, job=job, limit=limit, cursor=cursor
        )


def dataset_artifact(db: Database, who: Principal, namespace: str, name: str) -> Artifact:
    """The newest version of the dataset OpenLineage calls (namespace, name)."""
    who.require("read")
    with db.read() as session:
        series = series_of(session, who, Dataset(namespace, name))
        return artifacts.get_by_name(session, who.project_id, series, None)
