"""Contexts (experiments, pipelines, pipeline runs) and their attributions and associations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..entities import Context, Page
from ..errors import AlreadyExists, NotFound
from ..tables import AssociationRow, AttributionRow, ContextRow
from ..tables.base import utcnow
from . import bulk
from .pagination import keyset_page


@dataclass(frozen=True, slots=True)
class NewContext:
    kind: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)


def to_entity(row: ContextRow) -> Context:
    return Context(
        id=row.id,
        project_id=row.project_id,
        kind=row.kind,
        name=row.name,
        properties=row.properties or {},
        created_at=row.created_at,
        deleted_at=row.deleted_at,
    )


def get(session: Session, project_id: int, context_id: int) -> Context:
    row = session.get(ContextRow, context_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"context {context_id} does not exist", details={"context_id": context_id})
    return to_entity(row)


def get_many(session: Session, project_id: int, ids: Sequence[int]) -> dict[int, Context]:
    """By id; ids of other projects (or of nothing) are simply absent."""
    rows = bulk.by_ids(session, ContextRow, project_id, ids)
    return {i: to_entity(r) for i, r in rows.items()}


def create(session: Session, project_id: int, spec: NewContext) -> Context:
    """Raises AlreadyExists when a context of that kind and name exists — also when another
    transaction creates it at the same moment (the insert yields to the unique key instead of
    failing on it)."""
    made = session.scalar(
        bulk.dialect_insert(session)(ContextRow)
        .values(
            project_id=project_id,
            kind=spec.kind,
            name=spec.name,
            properties=spec.properties,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(ContextRow.id)
    )
    if made is None:
        exists = session.scalar(
            select(ContextRow.id).where(
                ContextRow.project_id == project_id,
                ContextRow.kind == spec.kind,
                ContextRow.name == spec.name,
            )
        )
        raise AlreadyExists(
            f"{spec.kind} {spec.name!r} already exists",
            details={"kind": spec.kind, "name": spec.name, "context_id": exists},
        )
    row = session.get(ContextRow, made)
    assert row is not None
    return to_entity(row)


def set_properties(
    session: Session, project_id: int, context_id: int, properties: dict[str, Any]
) -> Context:
    """Merge `properties` into the context's (top-level keys replaced)."""
    row = session.get(ContextRow, context_id, with_for_update=True)
    if row is None or row.project_id != project_id:
        raise NotFound(f"context {context_id} does not exist", details={"context_id": context_id})
    row.properties = {**(row.properties or {}), **properties}
    session.flush()
    return to_entity(row)


def ensure_many(
    session: Session, project_id: int, specs: Sequence[NewContext]
) -> tuple[list[Context], set[int]]:
    """Get or create contexts by (kind, name), race-free through an upsert.

    Returns the contexts in the order of `specs` and the ids of those this call created.
    """
    if not specs:
        return [], set()
    keys = sorted({(s.kind, s.name) for s in specs})
    props = {(s.kind, s.name): s.properties for s in specs}
    table = bulk.table_of(ContextRow)
    now = utcnow()
    inserted = bulk.insert_ignoring(
        session,
        table,
        [
            {"project_id": project_id, "kind": k, "name": n, "properties": props[(k, n)]}
            | {"created_at": now}
            for k, n in keys
        ],
        returning=("id",),
    )
    created = {row[0] for row in inserted}
    rows = session.scalars(
        select(ContextRow).where(
            ContextRow.project_id == project_id,
            ContextRow.kind.in_({k for k, _ in keys}),
            ContextRow.name.in_({n for _, n in keys}),
        )
    )
    by_key = {(r.kind, r.name): to_entity(r) for r in rows}
    return [by_key[(s.kind, s.name)] for s in specs], created


def list_page(
    session: Session,
    project_id: int,
    *,
    kind: str | None = None,
    name: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Context]:
    query = select(ContextRow).where(ContextRow.project_id == project_id)
    if kind is not None:
        query = query.where(ContextRow.kind == kind)
    if name is not None:
        query = query.where(ContextRow.name == name)
    return keyset_page(session, query, ContextRow, limit=limit, cursor=cursor, to_entity=to_entity)


def attach(
    session: Session,
    *,
    associations: Iterable[tuple[int, int]] = (),
    attributions: Iterable[tuple[int, int]] = (),
) -> None:
    """Link (context, execution) and (context, artifact) pairs; existing links are kept."""
    bulk.insert_ignoring(
        session,
        bulk.table_of(AssociationRow),
        [{"context_id": c, "execution_id": e} for c, e in sorted(set(associations))],
    )
    bulk.insert_ignoring(
        session,
        bulk.table_of(AttributionRow),
        [{"context_id": c, "artifact_id": a} for c, a in sorted(set(attributions))],
    )


def for_artifacts(session: Session, artifact_ids: Sequence[int]) -> dict[int, list[Context]]:
    """Contexts of each artifact, in one statement (for dataloaders)."""
    out: dict[int, list[Context]] = {i: [] for i in artifact_ids}
    if not artifact_ids:
        return out
    rows = session.execute(
        select(AttributionRow.artifact_id, ContextRow)
        .join(ContextRow, ContextRow.id == AttributionRow.context_id)
        .where(AttributionRow.artifact_id.in_(set(artifact_ids)))
        .order_by(ContextRow.id)
    )
    for artifact_id, row in rows:
        out[artifact_id].append(to_entity(row))
    return out


def for_executions(session: Session, execution_ids: Sequence[int]) -> dict[int, list[Context]]:
    """Contexts of each execution, in one statement (for dataloaders)."""
    out: dict[int, list[Context]] = {i: [] for i in execution_ids}
    if not execution_ids:
        return out
    rows = session.execute(
        select(AssociationRow.execution_id, ContextRow)
        .join(ContextRow, ContextRow.id == AssociationRow.context_id)
        .where(AssociationRow.execution_id.in_(set(execution_ids)))
        .order_by(ContextRow.id)
    )
    for execution_id, row in rows:
        out[execution_id].append(to_entity(row))
    return out


def lock_many(session: Session, project_id: int, ids: Sequence[int]) -> dict[int, Context]:
    """By id, under row locks taken in id order (see executions.lock_many)."""
    rows = bulk.by_ids(session, ContextRow, project_id, ids, lock=True)
    return {i: to_entity(r) for i, r in rows.items()}


def set_properties_many(session: Session, properties: dict[int, dict[str, Any]]) -> None:
    """Replace the properties of contexts locked by `lock_many`."""
    bulk.update_rows(
        session,
        bulk.table_of(ContextRow),
        [{"id": i, "properties": p} for i, p in sorted(properties.items())],
    )
