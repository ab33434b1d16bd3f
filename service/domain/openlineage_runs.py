"""OpenLineage's jobs and runs for one batch of events: a job is a `pipeline` context, a run an
execution in its job (and its parent run's job). Each is found by its identity or made once,
and every event of the batch is folded into it in arrival order, so a batch costs the same few
statements whether it holds one event or a thousand.

Events of one run merge in any order: a run that ended stays ended (a late START or RUNNING
changes nothing), its start is the earliest event's time, its facets the union of all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mlledger.store.entities import Execution
from mlledger.store.metadata import contexts, executions, external_ids
from mlledger.store.metadata.contexts import NewContext
from mlledger.store.metadata.executions import NewExecution

from .openlineage_datasets import Dataset, key_of, node_name, obj
from .principal import Principal

SYSTEM = "openlineage"
JOB_KIND = "pipeline"  # the context kind a job becomes
RUN_KIND = "other"  # the execution kind a run becomes (its properties say OpenLineage)
STATES = {"START": "running", "RUNNING": "running", "COMPLETE": "complete", "FAIL": "failed"}
STATES["ABORT"] = "failed"
ENDED = ("complete", "failed")
EVENTS_KEPT = 100  # event types a run's properties list, newest last

Job = tuple[str, str]  # namespace, name


@dataclass(frozen=True, slots=True)
class RunEvent:
    """What of an event a run and its job need (the rest is the datasets')."""

    run_id: str
    job: Job
    event_type: str | None
    event_time: datetime
    producer: str
    facets: dict[str, Any]


def parent_job(facets: dict[str, Any]) -> Job | None:
    """The job of the run's parent (ParentRunFacet), when the facet names one."""
    job = obj(obj(facets.get("parent")).get("job"))
    ns, name = job.get("namespace"), job.get("name")
    return (ns, name) if isinstance(ns, str) and isinstance(name, str) else None


@dataclass(slots=True)
class Jobs:
    """Every job a batch names: its own facets merged in arrival order, and what a JobEvent
    declares it reads and writes (the last declaration wins)."""

    facets: dict[Job, dict[str, Any]] = field(default_factory=dict)
    declared: dict[Job, dict[str, Any]] = field(default_factory=dict)
    ids: dict[Job, int] = field(default_factory=dict)

    def name(self, job: Job, facets: dict[str, Any] | None = None) -> None:
        self.facets.setdefault(job, {}).update(facets or {})

    def declare(self, job: Job, inputs: Sequence[Dataset], outputs: Sequence[Dataset]) -> None:
        self.declared[job] = {
            "inputs": [[d.namespace, d.name] for d in inputs],
            "outputs": [[d.namespace, d.name] for d in outputs],
        }

    def _meta(self, job: Job, current: dict[str, Any]) -> dict[str, Any]:
        meta = {"namespace": job[0], "name": job[1], **current}
        meta["facets"] = {**obj(current.get("facets")), **self.facets.get(job, {})}
        if job in self.declared:
            meta["declared"] = self.declared[job]
        return meta

    def resolve(self, session: Session, who: Principal) -> None:
        """Find or make each job's context and merge the batch into it."""
        project = who.project_id
        keys = {key_of(*job): job for job in self.facets}
        found = external_ids.find_many(session, project, SYSTEM, "job", list(keys))
        missing = [job for k, job in keys.items() if k not in found]
        made: set[int] = set()
        if missing:
            specs = [
                NewContext(JOB_KIND, node_name(f"{j[0]}/{j[1]}"), {SYSTEM: self._meta(j, {})})
                for j in missing
            ]
            got, made = contexts.ensure_many(session, project, specs)
            claims = {key_of(*j): c.id for j, c in zip(missing, got, strict=True)}
            external_ids.claim_many(session, project, SYSTEM, "job", claims)
            found = external_ids.find_many(session, project, SYSTEM, "job", list(keys))
        self.ids = {job: found[k] for k, job in keys.items()}
        # A job stored before (or made by another writer meanwhile) takes the batch's facets.
        stale = [
            i
            for job, i in self.ids.items()
            if i not in made and (self.facets[job] or job in self.declared)
        ]
        locked = contexts.lock_many(session, project, stale)
        by_id = {i: job for job, i in self.ids.items()}
        contexts.set_properties_many(
            session,
            {
                i: {**c.properties, SYSTEM: self._meta(by_id[i], obj(c.properties.get(SYSTEM)))}
                for i, c in locked.items()
            },
        )


def _fold(run: Execution, e: RunEvent) -> Execution:
    """The run after one more of its events."""
    meta = dict(obj(run.properties.get(SYSTEM)))
    meta["facets"] = {**obj(meta.get("facets")), **e.facets}
    meta["events"] = [*meta.get("events", []), e.event_type or "OTHER"][-EVENTS_KEPT:]
    if isinstance(e.facets.get("parent"), dict):
        meta["parent"] = e.facets["parent"]
    state, ended_at = run.state, run.ended_at
    new = STATES.get(e.event_type or "")
    if new is not None and run.state not in ENDED:
        state = new
        ended_at = e.event_time if new in ENDED else ended_at
    return replace(
        run,
        state=state,
        ended_at=ended_at,
        started_at=min(run.started_at, e.event_time),
        properties={**run.properties, SYSTEM: meta},
    )


def _first(e: RunEvent) -> NewExecution:
    state = STATES.get(e.event_type or "")
    meta: dict[str, Any] = {
        "run_id": e.run_id,
        "job": {"namespace": e.job[0], "name": e.job[1]},
        "facets": e.facets,
        "events": [e.event_type or "OTHER"],
        "producer": e.producer,
    }
    if isinstance(e.facets.get("parent"), dict):
        meta["parent"] = e.facets["parent"]
    return NewExecution(
        kind=RUN_KIND,
        name=node_name(e.job[1]),
        state=state or "running",
        properties={SYSTEM: meta},
        started_at=e.event_time,
        ended_at=e.event_time if state in ENDED else None,
    )


def resolve_runs(
    session: Session, who: Principal, batch: Sequence[RunEvent], jobs: Jobs
) -> tuple[dict[str, int], set[int]]:
    """Each run's execution id: made on the run's first event (whichever that is), every
    event of the batch folded into it, associated with its job and its parent's job; and the
    ids of the executions this call made."""
    project = who.project_id
    by_run: dict[str, list[RunEvent]] = {}
    for e in batch:
        by_run.setdefault(e.run_id, []).append(e)
    found = external_ids.find_many(session, project, SYSTEM, "run", list(by_run))
    fresh = [r for r in by_run if r not in found]
    made = executions.create_many(session, project, [_first(by_run[r][0]) for r in fresh])
    if fresh:
        claims = {r: m.id for r, m in zip(fresh, made, strict=True)}
        external_ids.claim_many(session, project, SYSTEM, "run", claims)
        found = external_ids.find_many(session, project, SYSTEM, "run", list(by_run))
    changed: dict[int, Execution] = {}
    for run, m in zip(fresh, made, strict=True):
        if found[run] == m.id:
            folded = m
            for e in by_run[run][1:]:
                folded = _fold(folded, e)
            if len(by_run[run]) > 1:
                changed[m.id] = folded
        else:  # another writer made the run first: ours is not needed, its is merged into
            executions.delete(session, project, m.id)
    ours = {m.id for m in made}
    stored = [r for r in by_run if found[r] not in ours]
    locked = executions.lock_many(session, project, [found[r] for r in stored])
    for run in stored:
        folded = locked[found[run]]
        for e in by_run[run]:
            folded = _fold(folded, e)
        changed[folded.id] = folded
    executions.update_many(session, list(changed.values()))
    links = set()
    for run, events in by_run.items():
        for e in events:
            links.add((jobs.ids[e.job], found[run]))
            parent = parent_job(e.facets)
            if parent is not None:
                links.add((jobs.ids[parent], found[run]))
    contexts.attach(session, associations=links)
    return {run: found[run] for run in by_run}, {found[r] for r in fresh} & ours
