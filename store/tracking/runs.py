"""Runs: create-or-attach by client uuid, params and tags, state changes, search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..entities import Page, Run
from ..errors import FailedPrecondition, InvalidArgument, NotFound
from ..metadata import contexts, executions
from ..metadata.contexts import NewContext
from ..metadata.executions import NewExecution
from ..metadata.pagination import decode_cursor, encode_cursor
from ..tables import ContextRow, ExecutionRow, LatestMetricRow, RunRow
from ..tables.base import to_utc
from . import filters


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


def _entity(execution: ExecutionRow, run: RunRow, experiment: str) -> Run:
    return Run(
        id=execution.id,
        uuid=run.uuid,
        project_id=execution.project_id,
        experiment=experiment,
        experiment_id=run.experiment_id,
        name=execution.name,
        state=execution.state,
        params=execution.params or {},
        tags=run.tags or {},
        code_version=execution.code_version,
        environment=execution.environment or {},
        started_at=execution.started_at,
        ended_at=execution.ended_at,
    )


def _select() -> Any:
    return (
        select(ExecutionRow, RunRow, ContextRow.name)
        .join(RunRow, RunRow.execution_id == ExecutionRow.id)
        .join(ContextRow, ContextRow.id == RunRow.experiment_id)
    )


def get(session: Session, project_id: int, ref: str, *, for_update: bool = False) -> Run:
    """A run by its uuid, or by its execution id given as digits."""
    query = _select().where(RunRow.project_id == project_id)
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
    return _entity(*row)


def get_many(session: Session, project_id: int, ids: Sequence[int]) -> dict[int, Run]:
    out: dict[int, Run] = {}
    for start in range(0, len(ids), 5000):
        rows = session.execute(
            _select().where(
                RunRow.project_id == project_id,
                RunRow.execution_id.in_(sorted(set(ids))[start : start + 5000]),
            )
        )
        for row in rows:
            run = _entity(*row)
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
    except IntegrityError:
        # Another process created this uuid between our read and our insert.
        return get(session, project_id, spec.uuid), False
    contexts.attach(session, associations=[(experiment.id, execution.id)])
    return get(session, project_id, spec.uuid), True


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
    return get(session, run.project_id, run.uuid)


def set_tags(session: Session, run: Run, tags: dict[str, str], remove: Sequence[str]) -> Run:
    row = session.get(RunRow, run.id)
    assert row is not None
    merged = {**(row.tags or {}), **tags}
    for key in remove:
        merged.pop(key, None)
    row.tags = merged
    session.flush()
    return get(session, run.project_id, run.uuid)


def finish(session: Session, run: Run, state: str, ended_at: datetime) -> Run:
    """End the run. `failed` is final (a rank that failed makes the job failed); ending an ended
    run again keeps its first end time."""
    row = session.get(ExecutionRow, run.id)
    assert row is not None
    if row.state == "failed" or (row.state == state and row.ended_at is not None):
        return get(session, run.project_id, run.uuid)
    row.state = state
    if state == "running":
        row.ended_at = None
    elif row.ended_at is None or state == "failed":
        row.ended_at = to_utc(ended_at)
    session.flush()
    return get(session, run.project_id, run.uuid)


def _order(text: str, spec: str, *, postgres: bool) -> list[Any]:
    """ORDER BY clauses; strings in code-point order on both databases (Postgres would use the
    database's locale, SQLite compares bytes: the same runs must come back in the same order)."""
    clauses: list[Any] = []
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        words = part.split()
        direction = "asc"
        if len(words) == 2 and words[1].lower() in {"asc", "desc"}:
            direction = words[1].lower()
        elif len(words) != 1:
            raise InvalidArgument(
                f"order_by: {part!r} is not '<field> [asc|desc]'", details={"order_by": spec}
            )
        field = filters.parse_field(spec, words[0], 0)
        if field.section == "metrics":
            column: Any = (
                select(LatestMetricRow.value)
                .where(
                    LatestMetricRow.execution_id == ExecutionRow.id,
                    LatestMetricRow.key == field.key,
                )
                .scalar_subquery()
            )
        else:
            column, kind = filters._column(field)
            if postgres and kind == "string":
                column = column.collate("C")
        ordered = column.desc() if direction == "desc" else column.asc()
        clauses.append(ordered.nulls_last())
    return clauses


def search(
    session: Session,
    project_id: int,
    *,
    experiments: Sequence[str] = (),
    filter: str | None = None,
    order_by: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Run]:
    """Runs matching `filter`, in `order_by` order (newest first by default), a page at a time.

    Raises:
        InvalidArgument: a malformed filter, order or cursor — with the position of the problem.
    """
    query = _select().where(RunRow.project_id == project_id)
    if experiments:
        query = query.where(ContextRow.name.in_(list(experiments)))
    condition = filters.parse(filter or "")
    if condition is not None:
        query = query.where(condition)
    postgres = session.get_bind().dialect.name == "postgresql"
    ordering = _order(order_by or "", order_by or "", postgres=postgres) if order_by else []
    query = query.order_by(*ordering, ExecutionRow.id.desc())
    offset = decode_cursor(cursor) or 0
    rows = session.execute(query.offset(offset).limit(limit + 1)).all()
    items = [_entity(*r) for r in rows[:limit]]
    following = encode_cursor(offset + limit) if len(rows) > limit else None
    return Page(items=items, next_cursor=following)
