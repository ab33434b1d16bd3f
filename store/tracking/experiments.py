"""Experiments: the contexts runs belong to, with the lifecycle MLflow's client expects (rename,
delete, restore, tags). Tags are the context's properties, so they show wherever contexts do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..entities import Context
from ..errors import AlreadyExists, NotFound
from ..metadata import contexts
from ..metadata.contexts import NewContext
from ..tables import ContextRow, EventRow, RunRow
from ..tables.base import utcnow
from .runs import Lifecycle

KIND = "experiment"
DEFAULT = "Default"  # MLflow's experiment "0": where runs go when none is named


def _row(session: Session, project_id: int, experiment_id: int) -> ContextRow:
    row = session.get(ContextRow, experiment_id)
    if row is None or row.project_id != project_id or row.kind != KIND:
        raise NotFound(
            f"experiment {experiment_id} does not exist", details={"experiment_id": experiment_id}
        )
    return row


def get(session: Session, project_id: int, experiment_id: int) -> Context:
    return contexts.to_entity(_row(session, project_id, experiment_id))


def by_name(session: Session, project_id: int, name: str) -> Context:
    row = session.scalar(
        select(ContextRow).where(
            ContextRow.project_id == project_id, ContextRow.kind == KIND, ContextRow.name == name
        )
    )
    if row is None:
        raise NotFound(f"experiment {name!r} does not exist", details={"experiment": name})
    return contexts.to_entity(row)


def ensure(session: Session, project_id: int, name: str) -> Context:
    (made,), _ = contexts.ensure_many(session, project_id, [NewContext(kind=KIND, name=name)])
    return made


def create(session: Session, project_id: int, name: str, tags: Mapping[str, str]) -> Context:
    """Raises AlreadyExists when the name is taken, by a deleted experiment too (as in
    MLflow: restore it, or rename it first)."""
    return contexts.create(
        session, project_id, NewContext(kind=KIND, name=name, properties=dict(tags))
    )


def rename(session: Session, project_id: int, experiment_id: int, name: str) -> Context:
    row = _row(session, project_id, experiment_id)
    if row.name == name:
        return contexts.to_entity(row)
    taken = session.scalar(
        select(func.count()).where(
            ContextRow.project_id == project_id, ContextRow.kind == KIND, ContextRow.name == name
        )
    )
    if taken:
        raise AlreadyExists(f"experiment {name!r} already exists", details={"experiment": name})
    row.name = name
    session.flush()
    return contexts.to_entity(row)


def mark_deleted(session: Session, project_id: int, experiment_id: int, deleted: bool) -> Context:
    row = _row(session, project_id, experiment_id)
    row.deleted_at = (row.deleted_at or utcnow()) if deleted else None
    session.flush()
    return contexts.to_entity(row)


def set_tags(
    session: Session,
    project_id: int,
    experiment_id: int,
    tags: Mapping[str, str],
    remove: Sequence[str] = (),
) -> Context:
    row = _row(session, project_id, experiment_id)
    merged = {**(row.properties or {}), **tags}
    for key in remove:
        merged.pop(key, None)
    row.properties = merged
    session.flush()
    return contexts.to_entity(row)


def listing(session: Session, project_id: int, lifecycle: Lifecycle) -> list[Context]:
    """Every experiment of the project in that lifecycle, oldest first: a project holds few
    (they name what is being tried, not each try), so callers filter and page in memory."""
    query = select(ContextRow).where(ContextRow.project_id == project_id, ContextRow.kind == KIND)
    if lifecycle == "active":
        query = query.where(ContextRow.deleted_at.is_(None))
    elif lifecycle == "deleted":
        query = query.where(ContextRow.deleted_at.is_not(None))
    return [contexts.to_entity(r) for r in session.scalars(query.order_by(ContextRow.id))]


def inputs(
    session: Session, project_id: int, experiment_ids: Sequence[int], limit: int
) -> list[tuple[int, int, str | None]]:
    """(experiment, artifact, role) for each distinct input of the experiments' runs, by
    experiment then artifact: what MLflow's UI lists as an experiment's datasets."""
    query = (
        select(RunRow.experiment_id, EventRow.artifact_id, EventRow.role)
        .join(EventRow, EventRow.execution_id == RunRow.execution_id)
        .where(
            RunRow.project_id == project_id,
            RunRow.experiment_id.in_(list(experiment_ids)),
            EventRow.type == "INPUT",
        )
        .distinct()
        .order_by(RunRow.experiment_id, EventRow.artifact_id, EventRow.role)
        .limit(limit)
    )
    return [(e, a, r) for e, a, r in session.execute(query)]
