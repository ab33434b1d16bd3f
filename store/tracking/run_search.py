"""Run search: mlledger's filter language over runs, in any order, a page at a time — with the
two orders an index serves (newest first, one metric) walked as keysets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..entities import Page, Run
from ..errors import InvalidArgument
from ..tables import ContextRow, ExecutionRow, LatestMetricRow, RunRow
from . import conditions, filters, runs, search_cursor
from .joins import fixed_order
from .runs import Lifecycle


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
            column, kind = conditions.column_of(field)
            if postgres and kind == "string":
                column = column.collate("C")
        ordered = column.desc() if direction == "desc" else column.asc()
        # A column that is never NULL keeps a plain order, which an index can serve (NULLS
        # LAST on a descending column is not the index's order).
        never_null = field.section == "attributes" and field.key in NOT_NULL_ATTRIBUTES
        clauses.append(ordered if never_null else ordered.nulls_last())
    return clauses


NOT_NULL_ATTRIBUTES = ("name", "state", "run_id", "started_at")


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
    query = runs.select_runs(experiment=False).where(RunRow.project_id == project_id)
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
    if (order_by or "").strip().lower().startswith("attributes.started_at"):
        # Said twice so the order by start time walks (project, started_at) on execution
        # (MLflow's default order), instead of sorting every run.
        query = query.where(ExecutionRow.project_id == project_id)
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
        items=[runs.to_entity(r, names[r.experiment_id]) for r in rows],
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
