"""OpenLineage events into the one graph: a job is a `pipeline` context, a run an execution in
it (its state from the event type, its parent from ParentRunFacet), a dataset an artifact
series named by where its data lives. Each output of a run is a new version of its dataset;
an input binds to the version current at the event's time — so a job that reads and writes one
table reads the version before its own. Events of one run merge in any order (a START after the
COMPLETE does not reopen it); the same event twice is stored once and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Event, Page
from mlledger.store.metadata import (
    artifacts,
    audit,
    contexts,
    events,
    executions,
    external_ids,
    lineage_events,
)
from mlledger.store.metadata.contexts import NewContext
from mlledger.store.metadata.executions import NewExecution
from mlledger.store.metadata.lineage_events import StoredEvent

from . import rules
from .openlineage_datasets import (
    Dataset,
    key_of,
    node_name,
    read_version,
    series_of,
    written_version,
)
from .principal import Principal

SYSTEM = "openlineage"
JOB_KIND = "pipeline"  # the context kind a job becomes
RUN_KIND = "other"  # the execution kind a run becomes (its properties say OpenLineage)
STATES = {"START": "running", "RUNNING": "running", "COMPLETE": "complete", "FAIL": "failed"}
STATES["ABORT"] = "failed"
ENDED = ("complete", "failed")


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


def digest_of(body: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def ingest(db: Database, who: Principal, event: LineageEvent) -> Ingested:
    """Store the event and map it, in one transaction: a failure stores nothing.

    Raises:
        FailedPrecondition: the run would read what it wrote (lineage stays acyclic).
    """
    who.require("write")
    with db.write() as session:
        stored = lineage_events.add(
            session,
            who.project_id,
            digest=digest_of(event.body),
            event_kind=event.kind,
            event_type=event.event_type,
            event_time=event.event_time,
            run_id=event.run_id,
            job=event.job,
            body=event.body,
        )
        if stored is None:
            return Ingested(None, None, None, [], [])
        job_id = _job(session, who, event.job, event.job_facets) if event.job else None
        execution_id = _run(session, who, event, job_id) if event.run_id else None
        inputs = [
            read_version(session, who, d, event.event_time, run_id=event.run_id).id
            for d in event.inputs
        ]
        outputs = [
            written_version(session, who, d, event.run_id, event.event_time).id
            for d in event.outputs
            if execution_id is not None
        ]
        if event.kind == "job" and job_id is not None:
            _declare(session, who, job_id, event)
        if event.dataset is not None:
            read_version(session, who, event.dataset, event.event_time, facets=True)
        if execution_id is not None:
            edges = [Event(execution_id, a, "INPUT", None) for a in inputs]
            edges += [Event(execution_id, a, "OUTPUT", None) for a in outputs]
            events.add_many(session, edges)
            contexts.attach(session, attributions=[(job_id, a) for a in outputs] if job_id else [])
            rules.refuse_cycles(session, execution_id, f"OpenLineage run {event.run_id}")
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "lineage.event",
                    "execution" if execution_id else "context",
                    execution_id or job_id or 0,
                    {"event": stored, "type": event.event_type, "run": event.run_id},
                )
            ],
        )
        return Ingested(stored, execution_id, job_id, inputs, outputs)


def _job(session: Session, who: Principal, job: tuple[str, str], facets: dict[str, Any]) -> int:
    key = key_of(*job)
    found = external_ids.find(session, who.project_id, SYSTEM, "job", key)
    if found is None:
        meta = {SYSTEM: {"namespace": job[0], "name": job[1], "facets": facets}}
        (made,), _ = contexts.ensure_many(
            session, who.project_id, [NewContext(JOB_KIND, node_name(f"{job[0]}/{job[1]}"), meta)]
        )
        external_ids.claim_many(session, who.project_id, SYSTEM, "job", {key: made.id})
        found = external_ids.find(session, who.project_id, SYSTEM, "job", key)
        assert found is not None
    elif facets:
        current = contexts.get(session, who.project_id, found)
        meta = dict(current.properties.get(SYSTEM, {}))
        meta["facets"] = {**meta.get("facets", {}), **facets}
        contexts.set_properties(session, who.project_id, found, {SYSTEM: meta})
    return found


def _run(session: Session, who: Principal, event: LineageEvent, job_id: int | None) -> int:
    """The run's execution, made on its first event (whichever that is) and merged after."""
    assert event.run_id is not None and event.job is not None
    state = STATES.get(event.event_type or "")
    parent = event.run_facets.get("parent")
    found = external_ids.find(session, who.project_id, SYSTEM, "run", event.run_id)
    if found is None:
        meta: dict[str, Any] = {
            "run_id": event.run_id,
            "job": {"namespace": event.job[0], "name": event.job[1]},
            "facets": event.run_facets,
            "events": [event.event_type or "OTHER"],
            "producer": event.producer,
        }
        if isinstance(parent, dict):
            meta["parent"] = parent
        (made,) = executions.create_many(
            session,
            who.project_id,
            [
                NewExecution(
                    kind=RUN_KIND,
                    name=node_name(event.job[1]),
                    state=state or "running",
                    properties={SYSTEM: meta},
                    started_at=event.event_time,
                    ended_at=event.event_time if state in ENDED else None,
                )
            ],
        )
        external_ids.claim_many(session, who.project_id, SYSTEM, "run", {event.run_id: made.id})
        found = external_ids.find(session, who.project_id, SYSTEM, "run", event.run_id)
        assert found is not None
        if found != made.id:  # another writer made the run first: this one is not needed
            executions.delete(session, who.project_id, made.id)
    else:
        current = executions.get(session, who.project_id, found)
        meta = dict(current.properties.get(SYSTEM, {}))
        meta["facets"] = {**meta.get("facets", {}), **event.run_facets}
        meta["events"] = [*meta.get("events", []), event.event_type or "OTHER"][-100:]
        if isinstance(parent, dict):
            meta["parent"] = parent
        # A run that ended stays ended (a late START or RUNNING changes nothing); its start is
        # the earliest event's time.
        new_state = None
        ended_at = None
        if state is not None and current.state not in ENDED:
            new_state = state
            ended_at = event.event_time if state in ENDED else None
        executions.update(
            session,
            who.project_id,
            found,
            state=new_state,
            ended_at=ended_at,
            properties={SYSTEM: meta},
            started_at=min(current.started_at, event.event_time),
        )
    links = [(job_id, found)] if job_id is not None else []
    if isinstance(parent, dict) and isinstance(parent.get("job"), dict):
        pj = parent["job"]
        if isinstance(pj.get("namespace"), str) and isinstance(pj.get("name"), str):
            links.append((_job(session, who, (pj["namespace"], pj["name"]), {}), found))
    contexts.attach(session, associations=links)
    return found


def _declare(session: Session, who: Principal, job_id: int, event: LineageEvent) -> None:
    """A JobEvent's datasets are what the job declares it reads and writes (no run: no edges)."""
    current = contexts.get(session, who.project_id, job_id)
    meta = dict(current.properties.get(SYSTEM, {}))
    meta["declared"] = {
        "inputs": [[d.namespace, d.name] for d in event.inputs],
        "outputs": [[d.namespace, d.name] for d in event.outputs],
    }
    contexts.set_properties(session, who.project_id, job_id, {SYSTEM: meta})


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
