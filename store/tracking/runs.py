"""Runs: create-or-attach by client uuid, params and tags, state changes (search is in
run_search.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..entities import Run
from ..errors import FailedPrecondition, NotFound
from ..metadata import contexts, executions
from ..metadata.contexts import NewContext
from ..metadata.executions import NewExecution
from ..tables import ContextRow, ExecutionRow, RunFieldRow, RunRow
from ..tables.base import to_utc, utcnow
from ..tables.tracking import HEAD

Lifecycle = Literal["active", "deleted", "all"]


@dataclass(frozen=True, slots=True)
class NewRun:
    uuid: str
    experiment: str
    name: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    code_version: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None


def to_entity(row: Any, experiment: str | None = None) -> Run:
    """A run from a row of `select_runs()` (`experiment`: the name, for rows selected
    without it)."""
    return Run(
        id=row.id,
        uuid=row.uuid,
        project_id=row.project_id,
        experiment=row.experiment if experiment is None else experiment,
        experiment_id=row.experiment_id,
        name=row.name,
        state=row.state,
        params=row.params or {},
        tags=row.tags or {},
        code_version=row.code_version,
        environment=row.environment or {},
        started_at=row.started_at,
        ended_at=row.ended_at,
        deleted_at=row.deleted_at,
        killed=row.killed,
    )


_COLUMNS = (
    ExecutionRow.id,
    ExecutionRow.project_id,
    ExecutionRow.name,
    ExecutionRow.state,
    ExecutionRow.params,
    ExecutionRow.code_version,
    ExecutionRow.environment,
    ExecutionRow.started_at,
    ExecutionRow.ended_at,
    RunRow.uuid,
    RunRow.experiment_id,
    RunRow.tags,
    RunRow.deleted_at,
    RunRow.killed,
)


def select_runs(*, experiment: bool = True) -> Any:
    """Columns, not mapped objects: a page of 100 runs spent more time building ORM instances
    (identity map, instrumented state) than in the database. Search leaves out the experiment's
    name (`experiment=False`) and looks it up for the page: one join fewer halved the planning
    of its costliest shapes (4.5 -> 2.5 ms)."""
    query = select(*_COLUMNS, *([ContextRow.name.label("experiment")] if experiment else []))
    query = query.select_from(ExecutionRow).join(RunRow, RunRow.execution_id == ExecutionRow.id)
    if experiment:
        query = query.join(ContextRow, ContextRow.id == RunRow.experiment_id)
    return query


def get(session: Session, project_id: int, ref: str, *, for_update: bool = False) -> Run:
    """A run by its uuid, or by its execution id given as digits."""
    query = select_runs().where(RunRow.project_id == project_id)
    if ref.isascii() and ref.isdigit():
        if len(ref) > 18:  # past any 64-bit id: no such run (and no overflow in the query)
            raise NotFound(f"run {ref!r} does not exist", details={"run": ref})
        query = query.where(RunRow.execution_id == int(ref))
    else:
        query = query.where(RunRow.uuid == ref)
    if for_update:
        query = query.with_for_update(of=ExecutionRow)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"run {ref!r} does not exist", details={"run": ref})
    return to_entity(row)


def get_many(session: Session, project_id: int, ids: Sequence[int]) -> dict[int, Run]:
    out: dict[int, Run] = {}
    for start in range(0, len(ids), 5000):
        rows = session.execute(
            select_runs().where(
                RunRow.project_id == project_id,
                RunRow.execution_id.in_(sorted(set(ids))[start : start + 5000]),
            )
        )
        for row in rows:
            run = to_entity(row)
            out[run.id] = run
    return out


def create(session: Session, project_id: int, spec: NewRun) -> tuple[Run, bool]:
    """Create the run, or return the one with this uuid (created=False): a retried create, or
    another process of the same job attaching to it."""
    try:
        return get(session, project_id, spec.uuid), False
    except NotFound:
        pass
    (experiment,), _ = contexts.ensure_many(
        session, project_id, [NewContext(kind="experiment", name=spec.experiment)]
    )
    try:
        with session.begin_nested():
            (execution,) = executions.create_many(
                session,
                project_id,
                [
                    NewExecution(
                        kind="run",
                        name=spec.name,
                        params=spec.params,
                        code_version=spec.code_version,
                        environment=spec.environment,
                        started_at=spec.started_at,
                    )
                ],
            )
            session.add(
                RunRow(
                    execution_id=execution.id,
                    project_id=project_id,
                    uuid=spec.uuid,
                    experiment_id=experiment.id,
                    tags=spec.tags,
                )
            )
            session.flush()
            _write_fields(session, execution.id, experiment.id, "params", spec.params)
            _write_fields(session, execution.id, experiment.id, "tags", spec.tags)
    except IntegrityError:
        # Another process created this uuid between our read and our insert.
        return get(session, project_id, spec.uuid), False
    contexts.attach(session, associations=[(experiment.id, execution.id)])
    return get(session, project_id, spec.uuid), True


def _write_fields(
    session: Session,
    execution_id: int,
    experiment_id: int,
    section: str,
    values: dict[str, Any],
    *,
    remove: Sequence[str] = (),
) -> None:
    """Mirror params or tags set (and tags removed) into `run_field`, search's index of them,
    in the caller's transaction: search never sees a value the run does not hold."""
    gone = sorted({*values, *remove})
    if not gone:
        return
    session.execute(
        delete(RunFieldRow).where(
            RunFieldRow.execution_id == execution_id,
            RunFieldRow.section == section,
            RunFieldRow.key.in_(gone),
        )
    )
    rows = [
        {
            "execution_id": execution_id,
            "section": section,
            "key": k,
            "experiment_id": experiment_id,
            "head": str(v)[:HEAD],
            "value": str(v),
        }
        for k, v in sorted(values.items())
        if k not in remove
    ]
    if rows:
        session.execute(insert(RunFieldRow), rows)


def log_params(session: Session, run: Run, params: dict[str, str]) -> Run:
    """Add params. A param is set once (as in MLflow): the same value again is a no-op, another
    value is refused, because metrics already logged were produced under the first one."""
    changed = {k: v for k, v in params.items() if run.params.get(k) != v}
    clashes = {k: (run.params[k], v) for k, v in changed.items() if k in run.params}
    if clashes:
        key, (old, new) = sorted(clashes.items())[0]
        raise FailedPrecondition(
            f"param {key!r} of run {run.uuid} is {old!r}; it cannot change to {new!r}",
            details={"param": key, "value": old, "given": new},
        )
    if changed:
        row = session.get(ExecutionRow, run.id)
        assert row is not None
        row.params = {**run.params, **changed}
        session.flush()
        _write_fields(session, run.id, run.experiment_id, "params", changed)
    return get(session, run.project_id, run.uuid)


def set_tags(session: Session, run: Run, tags: dict[str, str], remove: Sequence[str]) -> Run:
    row = session.get(RunRow, run.id)
    assert row is not None
    merged = {**(row.tags or {}), **tags}
    for key in remove:
        merged.pop(key, None)
    row.tags = merged
    session.flush()
    _write_fields(session, run.id, run.experiment_id, "tags", tags, remove=remove)
    return get(session, run.project_id, run.uuid)


INPUT_TAGS = "input_tags"  # the run's properties: tags of each input beyond its role


def tag_input(session: Session, run: Run, artifact_id: int, tags: dict[str, str]) -> None:
    """Tags of one of the run's inputs (MLflow's dataset input tags): kept on the run, since
    they say how this run read the artifact, not what the artifact is."""
    row = session.get(ExecutionRow, run.id)
    assert row is not None
    by_input = dict((row.properties or {}).get(INPUT_TAGS, {}))
    by_input[str(artifact_id)] = {**by_input.get(str(artifact_id), {}), **tags}
    row.properties = {**(row.properties or {}), INPUT_TAGS: by_input}
    session.flush()


def input_tags(session: Session, run_ids: Sequence[int]) -> dict[int, dict[int, dict[str, str]]]:
    """Each run's input tags by artifact id (runs without any are absent)."""
    if not run_ids:
        return {}
    rows = session.execute(
        select(ExecutionRow.id, ExecutionRow.properties).where(ExecutionRow.id.in_(set(run_ids)))
    )
    return {
        i: {int(a): dict(t) for a, t in props[INPUT_TAGS].items()}
        for i, props in rows
        if props and props.get(INPUT_TAGS)
    }


def finish(
    session: Session, run: Run, state: str, ended_at: datetime, *, killed: bool = False
) -> Run:
    """End the run. `failed` is final (a rank that failed makes the job failed); ending an ended
    run again keeps its first end time. `killed`: failed because its caller stopped it."""
    row = session.get(ExecutionRow, run.id)
    assert row is not None
    if row.state == "failed" or (row.state == state and row.ended_at is not None):
        return get(session, run.project_id, run.uuid)
    if killed:
        marked = session.get(RunRow, run.id)
        assert marked is not None
        marked.killed = True
    row.state = state
    if state == "running":
        row.ended_at = None
    elif row.ended_at is None or state == "failed":
        row.ended_at = to_utc(ended_at)
    session.flush()
    return get(session, run.project_id, run.uuid)


def rename(session: Session, run: Run, name: str) -> Run:
    row = session.get(ExecutionRow, run.id)
    assert row is not None
    row.name = name
    session.flush()
    return get(session, run.project_id, run.uuid)


def mark_deleted(session: Session, run: Run, deleted: bool) -> Run:
    """Delete (or restore) the run: a mark, so lineage through it stays whole."""
    row = session.get(RunRow, run.id)
    assert row is not None
    if deleted and row.deleted_at is None:
        row.deleted_at = utcnow()
    elif not deleted:
        row.deleted_at = None
    session.flush()
    return get(session, run.project_id, run.uuid)
