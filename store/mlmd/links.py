"""What joins MLMD's nodes: events (all eight types, with paths), attributions, associations
and the context hierarchy.

An MLMD event is kept as sent in `mlmd_event`; the lineage edge it means — INPUT for the
declared, real and internal inputs, OUTPUT for the outputs and pending outputs — is an `event`
row too, so mlledger's walks, impact analysis and the explorer follow it. An UNKNOWN event is
MLMD's alone. Nodes mlledger's clients linked have `event` rows only; they read as INPUT/OUTPUT
events with the role as the path's key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.orm import Session

from ..entities import Event
from ..errors import AlreadyExists, InvalidArgument
from ..metadata import bulk, events
from ..tables.lineage import AssociationRow, AttributionRow, ContextRow, EventRow
from ..tables.mlmd import MlmdEventRow, ParentContextRow
from .nodes import TypeKind, exists_all, now_ms

LINEAGE_TYPE: dict[int, Literal["INPUT", "OUTPUT"]] = {
    1: "OUTPUT",  # DECLARED_OUTPUT
    2: "INPUT",  # DECLARED_INPUT
    3: "INPUT",
    4: "OUTPUT",
    5: "INPUT",  # INTERNAL_INPUT
    6: "OUTPUT",  # INTERNAL_OUTPUT
    7: "OUTPUT",  # PENDING_OUTPUT
}
NATIVE_TYPE = {"INPUT": 3, "OUTPUT": 4}
MAX_PATH_STEPS = 64


@dataclass
class MlmdEvent:
    artifact_id: int | None
    execution_id: int | None
    type: int = 0
    path: list[dict[str, Any]] = field(default_factory=list)  # {"index": n} | {"key": s}
    ms: int | None = None


def _role(path: list[dict[str, Any]]) -> str | None:
    key = next((s["key"] for s in path if "key" in s), None)
    return key[:128] if isinstance(key, str) else None


@dataclass(frozen=True)
class Known:
    """What the caller's unit of work already knows of the events' ends: nodes it checked are
    in the project, and which of them it made (those have no events yet)."""

    artifacts: Set[int] = frozenset()
    executions: Set[int] = frozenset()
    fresh_artifacts: Set[int] = frozenset()
    fresh_executions: Set[int] = frozenset()


def put_events(
    session: Session,
    project_id: int,
    wanted: Sequence[MlmdEvent],
    *,
    skip_existing: bool = False,
    known: Known | None = None,
) -> list[Event]:
    """Store events; the new lineage edges they mean (for the acyclic check).

    Raises:
        InvalidArgument: an event without both ends, or an end that is not in the project.
        AlreadyExists: the same (execution, artifact, type) again — unless `skip_existing`
            (PutExecution and PutLineageSubgraph re-record a run's events idempotently).
    """
    for e in wanted:
        if not e.artifact_id or not e.execution_id:
            raise InvalidArgument("an event needs both an artifact_id and an execution_id")
        if e.type not in range(8):
            raise InvalidArgument(f"event type {e.type} is not one of MLMD's")
        if len(e.path) > MAX_PATH_STEPS:
            raise InvalidArgument(f"an event's path has at most {MAX_PATH_STEPS} steps")
    known = known or Known()
    ask_a = {e.artifact_id for e in wanted} - known.artifacts
    ask_e = {e.execution_id for e in wanted} - known.executions
    missing_a = ask_a - exists_all(session, project_id, "artifact", ask_a)  # type: ignore[arg-type]
    missing_e = ask_e - exists_all(session, project_id, "execution", ask_e)  # type: ignore[arg-type]
    if missing_a or missing_e:
        raise InvalidArgument(
            "events name nodes that do not exist: "
            + ", ".join(
                [f"artifact {i}" for i in sorted(missing_a, key=int)]  # type: ignore[arg-type]
                + [f"execution {i}" for i in sorted(missing_e, key=int)]  # type: ignore[arg-type]
            )
        )
    stored: set[tuple[Any, ...]] = set()
    with_events = {e.execution_id for e in wanted} - known.fresh_executions
    for part in bulk.chunks(sorted(with_events)):  # type: ignore[type-var]
        stored.update(
            session.execute(
                select(
                    MlmdEventRow.execution_id, MlmdEventRow.artifact_id, MlmdEventRow.type
                ).where(MlmdEventRow.execution_id.in_(part))
            ).tuples()
        )
    now = now_ms()
    rows: list[dict[str, Any]] = []
    for e in wanted:
        key = (e.execution_id, e.artifact_id, e.type)
        if key in stored:
            if skip_existing:
                continue
            raise AlreadyExists(
                f"execution {e.execution_id} has an event of type {e.type} with artifact "
                f"{e.artifact_id} already"
            )
        stored.add(key)
        rows.append(
            {
                "project_id": project_id,
                "execution_id": e.execution_id,
                "artifact_id": e.artifact_id,
                "type": e.type,
                "path": e.path,
                "ms": e.ms or now,
            }
        )
    if rows:
        session.execute(insert(MlmdEventRow), rows)
    edges = [
        Event(
            execution_id=r["execution_id"],
            artifact_id=r["artifact_id"],
            type=LINEAGE_TYPE[r["type"]],
            role=_role(r["path"]),
        )
        for r in rows
        if r["type"] in LINEAGE_TYPE
    ]
    events.add_many(session, edges)
    return edges


def events_of(
    session: Session, *, execution_ids: Iterable[int] = (), artifact_ids: Iterable[int] = ()
) -> list[MlmdEvent]:
    """The events of these executions or artifacts, MLMD's as sent and mlledger's own edges."""
    out: list[MlmdEvent] = []
    for column, native_column, ids in (
        (MlmdEventRow.execution_id, EventRow.execution_id, execution_ids),
        (MlmdEventRow.artifact_id, EventRow.artifact_id, artifact_ids),
    ):
        for part in bulk.chunks(sorted(set(ids))):
            for row in session.scalars(
                select(MlmdEventRow).where(column.in_(part)).order_by(MlmdEventRow.id)
            ):
                out.append(
                    MlmdEvent(row.artifact_id, row.execution_id, row.type, list(row.path), row.ms)
                )
            recorded = exists().where(
                MlmdEventRow.execution_id == EventRow.execution_id,
                MlmdEventRow.artifact_id == EventRow.artifact_id,
            )
            for edge in session.scalars(
                select(EventRow).where(native_column.in_(part), ~recorded).order_by(EventRow.id)
            ):
                out.append(
                    MlmdEvent(
                        edge.artifact_id,
                        edge.execution_id,
                        NATIVE_TYPE[edge.type],
                        [{"key": edge.role}] if edge.role else [],
                        int(edge.created_at.timestamp() * 1000),
                    )
                )
    return out


def put_links(
    session: Session,
    project_id: int,
    attributions: Sequence[tuple[int, int]],
    associations: Sequence[tuple[int, int]],
) -> None:
    """(context, artifact) and (context, execution) pairs; a pair stored already is no error.

    Raises InvalidArgument when an id is unset or not a node of the project.
    """
    checks: list[tuple[str, Sequence[tuple[int, int]], TypeKind]] = [
        ("attribution", attributions, "artifact"),
        ("association", associations, "execution"),
    ]
    for label, pairs, kind in checks:
        if not pairs:
            continue
        if any(not c or not n for c, n in pairs):
            raise InvalidArgument(f"an {label} needs a context_id and an {kind}_id")
        missing_c = {c for c, _ in pairs} - exists_all(
            session, project_id, "context", (c for c, _ in pairs)
        )
        missing_n = {n for _, n in pairs} - exists_all(
            session, project_id, kind, (n for _, n in pairs)
        )  # type: ignore[arg-type]
        if missing_c or missing_n:
            raise InvalidArgument(
                f"{label}s name nodes that do not exist: "
                + ", ".join(
                    [f"context {i}" for i in sorted(missing_c)]
                    + [f"{kind} {i}" for i in sorted(missing_n)]
                )
            )
    if attributions:
        bulk.insert_ignoring(
            session,
            bulk.table_of(AttributionRow),
            [{"context_id": c, "artifact_id": a} for c, a in sorted(set(attributions))],
        )
    if associations:
        bulk.insert_ignoring(
            session,
            bulk.table_of(AssociationRow),
            [{"context_id": c, "execution_id": e} for c, e in sorted(set(associations))],
        )


def attributions_of(
    session: Session, *, context_ids: Iterable[int] = (), artifact_ids: Iterable[int] = ()
) -> set[tuple[int, int]]:
    return _pairs(session, AttributionRow, AttributionRow.artifact_id, context_ids, artifact_ids)


def associations_of(
    session: Session, *, context_ids: Iterable[int] = (), execution_ids: Iterable[int] = ()
) -> set[tuple[int, int]]:
    return _pairs(session, AssociationRow, AssociationRow.execution_id, context_ids, execution_ids)


def _pairs(
    session: Session, table: Any, other: Any, context_ids: Iterable[int], other_ids: Iterable[int]
) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for column, ids in ((table.context_id, context_ids), (other, other_ids)):
        for part in bulk.chunks(sorted(set(ids))):
            out.update(
                session.execute(select(table.context_id, other).where(column.in_(part))).tuples()
            )
    return out


def put_parents(session: Session, project_id: int, pairs: Sequence[tuple[int, int]]) -> None:
    """(child, parent) links between contexts.

    Raises:
        InvalidArgument: an id unset or not a context of the project, a context its own
            parent, or a link that would make the hierarchy cyclic.
        AlreadyExists: the link is stored already.
    """
    for child, parent in pairs:
        if not child or not parent:
            raise InvalidArgument("a parent context link needs a child_id and a parent_id")
        if child == parent:
            raise InvalidArgument(f"context {child} cannot be its own parent")
    ids = {i for pair in pairs for i in pair}
    missing = ids - exists_all(session, project_id, "context", ids)
    if missing:
        raise InvalidArgument(f"no contexts with ids {sorted(missing)}")
    for child, parent in pairs:
        stored = session.scalar(
            select(ParentContextRow.child_id).where(
                and_(ParentContextRow.child_id == child, ParentContextRow.parent_id == parent)
            )
        )
        if stored is not None:
            raise AlreadyExists(f"context {parent} is a parent of context {child} already")
    graph: dict[int, set[int]] = {}
    for child, parent in pairs:
        graph.setdefault(child, set()).add(parent)
    # A cycle through the new links: walk up from each new parent, looking for its child.
    for child, parent in pairs:
        seen, frontier = {parent}, {parent}
        while frontier:
            if child in frontier:
                raise InvalidArgument(
                    f"making context {parent} a parent of context {child} makes a cycle"
                )
            ups = set(
                session.scalars(
                    select(ParentContextRow.parent_id).where(
                        ParentContextRow.child_id.in_(sorted(frontier))
                    )
                )
            )
            for f in frontier:
                ups |= graph.get(f, set())
            frontier = ups - seen
            seen |= frontier
    session.execute(
        insert(ParentContextRow), [{"child_id": c, "parent_id": p} for c, p in sorted(set(pairs))]
    )


def parents_of(session: Session, context_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(child, parent) pairs of these children, parents in id order."""
    return _hierarchy(session, ParentContextRow.child_id, context_ids)


def children_of(session: Session, context_ids: Iterable[int]) -> list[tuple[int, int]]:
    return _hierarchy(session, ParentContextRow.parent_id, context_ids)


def _hierarchy(session: Session, column: Any, ids: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for part in bulk.chunks(sorted(set(ids))):
        out.extend(
            session.execute(
                select(ParentContextRow.child_id, ParentContextRow.parent_id)
                .join(ContextRow, ContextRow.id == ParentContextRow.parent_id)
                .where(column.in_(part))
                .order_by(ParentContextRow.parent_id, ParentContextRow.child_id)
            ).tuples()
        )
    return out
