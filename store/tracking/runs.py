"""Runs: create-or-attach by client uuid, params and tags, state changes, search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, exists, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..entities import Page, Run
from ..errors import FailedPrecondition, InvalidArgument, NotFound
from ..metadata import contexts, executions
from ..metadata.contexts import NewContext
from ..metadata.executions import NewExecution
from ..tables import ContextRow, ExecutionRow, LatestMetricRow, RunFieldRow, RunRow
from ..tables.base import to_utc, utcnow
from ..tables.tracking import HEAD
from . import filters, search_cursor
from .joins import fixed_order

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


def _entity(row: Any, experiment: str | None = None) -> Run:
    """A run from a row of `_select()` (`experiment`: the name, for rows selected without it)."""
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


def _select(*, experiment: bool = True) -> Any:
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
    return _entity(row)


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
            run = _entity(row)
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
    lifecycle: Lifecycle = "active",
    in_experiments: Sequence[int] = (),
) -> Page[Run]:
    """Runs matching `filter`, in `order_by` order (newest first by default), a page at a time;
    deleted runs only when `lifecycle` asks for them. `experiments` by name and
    `in_experiments` by id: runs of either.

    Raises:
        InvalidArgument: a malformed filter, order or cursor — with the position of the problem.
    """
    query = _select(experiment=False).where(RunRow.project_id == project_id)
    if lifecycle != "all":
        gone = RunRow.deleted_at.is_not(None)
        query = query.where(gone if lifecycle == "deleted" else ~gone)
    experiment_ids: list[int] | None = None
    if experiments or in_experiments:
        experiment_ids = list(
            session.scalars(
                select(ContextRow.id).where(
                    ContextRow.project_id == project_id,
                    ContextRow.kind == "experiment",
                    or_(
                        ContextRow.name.in_(list(experiments)),
                        ContextRow.id.in_(list(in_experiments)),
                    ),
                )
            )
        )
        query = query.where(RunRow.experiment_id.in_(experiment_ids))
    condition = filters.parse(filter or "")
    if condition is not None:
        query = query.where(condition)
    position = search_cursor.decode(cursor)
    by_metric = _single_metric(order_by or "")
    if by_metric is not None:
        return _by_metric(session, query, *by_metric, experiment_ids, position, limit)
    if not order_by and not isinstance(position, search_cursor.Offset):  # newest first: keyset
        if position is not None:  # on both sides of the join: each scan starts at the cursor
            query = query.where(RunRow.execution_id < position.id, ExecutionRow.id < position.id)
        rows = list(session.execute(query.order_by(RunRow.execution_id.desc()).limit(limit + 1)))
        more = len(rows) > limit
        return _page(
            session, rows, limit, search_cursor.After(None, rows[limit - 1].id) if more else None
        )
    postgres = session.get_bind().dialect.name == "postgresql"
    ordering = _order(order_by or "", order_by or "", postgres=postgres) if order_by else []
    query = query.order_by(*ordering, ExecutionRow.id.desc())
    # Orders no index serves continue by offset; a keyset cursor there is past every result.
    offset = position.rows if isinstance(position, search_cursor.Offset) else 0
    if isinstance(position, search_cursor.After):
        offset = search_cursor.MAX_ID
    rows = list(session.execute(query.offset(offset).limit(limit + 1)).all())
    more = len(rows) > limit
    return _page(session, rows, limit, search_cursor.Offset(offset + limit) if more else None)


def _page(
    session: Session, rows: Sequence[Any], limit: int, following: search_cursor.Position | None
) -> Page[Run]:
    rows = rows[:limit]
    names: dict[int, str] = {}
    if rows:
        found = session.execute(
            select(ContextRow.id, ContextRow.name).where(
                ContextRow.id.in_({r.experiment_id for r in rows})
            )
        )
        names = {id_: name for id_, name in found}
    return Page(
        items=[_entity(r, names[r.experiment_id]) for r in rows],
        next_cursor=None if following is None else search_cursor.encode(following),
    )


def _single_metric(spec: str) -> tuple[str, bool] | None:
    """(key, descending) when the order is one metric, the shape `_by_metric` serves."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if len(parts) != 1:
        return None
    words = parts[0].split()
    if len(words) > 2 or (len(words) == 2 and words[1].lower() not in {"asc", "desc"}):
        return None  # `_order` says what is wrong with it
    field = filters.parse_field(spec, words[0], 0)
    if field.section != "metrics":
        return None
    return field.key, len(words) == 2 and words[1].lower() == "desc"


def _by_metric(
    session: Session,
    query: Any,
    key: str,
    descending: bool,
    experiment_ids: list[int] | None,
    position: search_cursor.Position | None,
    limit: int,
) -> Page[Run]:
    """A page of `query` ordered by the latest `key` (then newest first), as two ordered reads
    instead of one sort of every run: first the runs that have the metric, walking
    (experiment, key, value) from the end the order starts at, then the runs without it (or
    with NaN), newest first — where `nulls last` puts them. A keyset position continues inside
    either part; an offset (a cursor made by hand) counts rows through both."""
    ranked = aliased(LatestMetricRow)
    ranking = and_(
        ranked.execution_id == ExecutionRow.id,
        ranked.key == key,
        ranked.value.is_not(None),
        *([ranked.experiment_id.in_(experiment_ids)] if experiment_ids is not None else []),
    )
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's planner scans the experiment's runs and sorts (120 ms at 100k) rather than
        # walk the metric's index; a CROSS JOIN is its way of fixing the order (1 ms).
        having = (
            select(*query.selected_columns, ranked.value.label("metric"))
            .select_from(fixed_order(fixed_order(ranked, ExecutionRow), RunRow))
            .where(RunRow.execution_id == ExecutionRow.id, ranking, query.whereclause)
        )
    else:
        having = query.add_columns(ranked.value.label("metric")).join(ranked, ranking)
    present = select(literal(1)).where(
        LatestMetricRow.execution_id == ExecutionRow.id,
        LatestMetricRow.key == key,
        LatestMetricRow.value.is_not(None),
    )
    without = query.where(~exists(present)).order_by(RunRow.execution_id.desc())
    value = ranked.value.desc() if descending else ranked.value.asc()
    having = having.order_by(value, ExecutionRow.id.desc())

    offset = position.rows if isinstance(position, search_cursor.Offset) else 0

    rows: list[Any] = []
    if isinstance(position, search_cursor.After) and position.value is not None:
        v = position.value
        beyond = ranked.value < v if descending else ranked.value > v
        reached = ranked.value <= v if descending else ranked.value >= v  # the index's range
        having = having.where(reached, or_(beyond, ExecutionRow.id < position.id))
    if not (isinstance(position, search_cursor.After) and position.value is None):
        rows = list(session.execute(having.offset(offset).limit(limit + 1)).all())
    if len(rows) <= limit:
        if isinstance(position, search_cursor.After):
            if position.value is None:
                without = without.where(
                    RunRow.execution_id < position.id, ExecutionRow.id < position.id
                )
            skip = 0
        elif rows or offset == 0:
            skip = 0  # the page began among the runs with the metric: the others from the top
        else:  # an offset past all of them: how many there were, to continue among the others
            counted = select(func.count()).select_from(
                having.with_only_columns(ExecutionRow.id).subquery()
            )
            skip = offset - (session.scalar(counted) or 0)
        with_metric = len(rows)
        rows += session.execute(without.offset(max(0, skip)).limit(limit + 1 - len(rows))).all()
    else:
        with_metric = len(rows)
    if len(rows) <= limit:
        return _page(session, rows, limit, None)
    if isinstance(position, search_cursor.Offset):
        return _page(session, rows, limit, search_cursor.Offset(offset + limit))
    last = rows[limit - 1]
    metric = last.metric if limit - 1 < with_metric else None
    return _page(session, rows, limit, search_cursor.After(metric, last.id))
