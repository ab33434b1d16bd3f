"""Registered models, versions and aliases.

Versions are numbered under a row lock on their registered model, so concurrent registrations
get consecutive numbers; the same artifact registered twice is the same version. Aliases move
only by compare-and-set under the same lock: two CI jobs racing to promote cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..entities import ModelVersion, Page, RegisteredModel
from ..errors import FailedPrecondition, NotFound
from ..metadata import bulk
from ..metadata.pagination import keyset_page
from ..tables import (
    ModelAliasRow,
    ModelVersionRow,
    RegisteredModelRow,
)
from ..tables.base import utcnow

UNSET: Any = object()


def _aliases(session: Session, model_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {i: {} for i in model_ids}
    if not model_ids:
        return out
    rows = session.execute(
        select(ModelAliasRow.registered_model_id, ModelAliasRow.alias, ModelVersionRow.version)
        .join(ModelVersionRow, ModelVersionRow.id == ModelAliasRow.model_version_id)
        .where(ModelAliasRow.registered_model_id.in_(list(model_ids)))
        .order_by(ModelAliasRow.alias)
    )
    for model_id, alias, version in rows:
        out[model_id][alias] = version
    return out


def _model_entity(row: RegisteredModelRow, aliases: dict[str, int]) -> RegisteredModel:
    return RegisteredModel(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        tags=row.tags or {},
        latest_version=row.last_version,
        aliases=aliases,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _version_entity(row: ModelVersionRow, model: str, aliases: list[str]) -> ModelVersion:
    return ModelVersion(
        id=row.id,
        model=model,
        version=row.version,
        artifact_id=row.artifact_id,
        run_id=row.run_id,
        description=row.description,
        tags=row.tags or {},
        metrics=row.metrics or {},
        aliases=aliases,
        created_at=row.created_at,
        stage=row.stage or "None",
    )


def model_row(
    session: Session, project_id: int, name: str, *, for_update: bool = False
) -> RegisteredModelRow:
    query = select(RegisteredModelRow).where(
        RegisteredModelRow.project_id == project_id, RegisteredModelRow.name == name
    )
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"model {name!r} does not exist", details={"model": name})
    return row


def lock(session: Session, project_id: int, name: str) -> int:
    """Take the model's row lock (the one alias moves take) for a check-then-move that must
    not interleave with another; the model's id."""
    return model_row(session, project_id, name, for_update=True).id


def alias_version(session: Session, model_id: int, alias: str) -> int | None:
    return session.scalar(
        select(ModelVersionRow.version)
        .join(ModelAliasRow, ModelAliasRow.model_version_id == ModelVersionRow.id)
        .where(ModelAliasRow.registered_model_id == model_id, ModelAliasRow.alias == alias)
    )


def get_model(session: Session, project_id: int, name: str) -> RegisteredModel:
    row = model_row(session, project_id, name)
    return _model_entity(row, _aliases(session, [row.id])[row.id])


def ensure_model(
    session: Session, project_id: int, name: str, description: str | None = None
) -> tuple[RegisteredModel, bool]:
    now = utcnow()
    inserted = session.execute(
        bulk.dialect_insert(session)(RegisteredModelRow)
        .values(
            project_id=project_id,
            name=name,
            description=description,
            tags={},
            last_version=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["project_id", "name"])
        .returning(RegisteredModelRow.id)
    ).first()
    return get_model(session, project_id, name), inserted is not None


def list_models(
    session: Session, project_id: int, *, name_like: str | None, limit: int, cursor: str | None
) -> Page[RegisteredModel]:
    query = select(RegisteredModelRow).where(RegisteredModelRow.project_id == project_id)
    if name_like:
        query = query.where(func.lower(RegisteredModelRow.name).like(name_like.lower()))
    page = keyset_page(
        session, query, RegisteredModelRow, limit=limit, cursor=cursor, to_entity=lambda r: r
    )
    aliases = _aliases(session, [r.id for r in page.items])
    return Page([_model_entity(r, aliases[r.id]) for r in page.items], page.next_cursor)


def update_model(
    session: Session,
    project_id: int,
    name: str,
    *,
    description: str | None = UNSET,
    tags: dict[str, str] | None = None,
    remove_tags: Sequence[str] = (),
) -> RegisteredModel:
    row = model_row(session, project_id, name, for_update=True)
    if description is not UNSET:
        row.description = description
    if tags or remove_tags:
        merged = {**(row.tags or {}), **(tags or {})}
        for key in remove_tags:
            merged.pop(key, None)
        row.tags = merged
    row.updated_at = utcnow()
    session.flush()
    return get_model(session, project_id, name)


def create_version(
    session: Session,
    project_id: int,
    name: str,
    *,
    artifact_id: int,
    run_id: int | None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
) -> tuple[ModelVersion, bool]:
    """The next version of `name` (created if new), or the version this artifact already is."""
    ensure_model(session, project_id, name)
    model = model_row(session, project_id, name, for_update=True)
    existing = session.scalars(
        select(ModelVersionRow).where(
            ModelVersionRow.registered_model_id == model.id,
            ModelVersionRow.artifact_id == artifact_id,
        )
    ).first()
    if existing is not None:
        return get_version(session, project_id, name, existing.version), False
    model.last_version += 1
    model.updated_at = utcnow()
    row = ModelVersionRow(
        registered_model_id=model.id,
        version=model.last_version,
        artifact_id=artifact_id,
        run_id=run_id,
        description=description,
        tags=tags or {},
        metrics=metrics or {},
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _version_entity(row, name, []), True


def version_row(
    session: Session, project_id: int, name: str, version: int
) -> tuple[RegisteredModelRow, ModelVersionRow]:
    model = model_row(session, project_id, name)
    row = session.scalars(
        select(ModelVersionRow).where(
            ModelVersionRow.registered_model_id == model.id, ModelVersionRow.version == version
        )
    ).first()
    if row is None:
        raise NotFound(
            f"model {name!r} has no version {version}",
            details={"model": name, "version": version},
        )
    return model, row


def _version_aliases(session: Session, version_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in version_ids}
    if version_ids:
        rows = session.execute(
            select(ModelAliasRow.model_version_id, ModelAliasRow.alias)
            .where(ModelAliasRow.model_version_id.in_(list(version_ids)))
            .order_by(ModelAliasRow.alias)
        )
        for version_id, alias in rows:
            out[version_id].append(alias)
    return out


def get_version(session: Session, project_id: int, name: str, version: int) -> ModelVersion:
    _, row = version_row(session, project_id, name, version)
    return _version_entity(row, name, _version_aliases(session, [row.id])[row.id])


def versions_of_artifacts(
    session: Session, project_id: int, artifact_ids: Sequence[int]
) -> dict[int, list[ModelVersion]]:
    """Registry versions of these artifacts (an artifact may be a version of several models)."""
    out: dict[int, list[ModelVersion]] = {i: [] for i in artifact_ids}
    if not artifact_ids:
        return out
    rows = session.execute(
        select(ModelVersionRow, RegisteredModelRow.name)
        .join(RegisteredModelRow, RegisteredModelRow.id == ModelVersionRow.registered_model_id)
        .where(
            RegisteredModelRow.project_id == project_id,
            ModelVersionRow.artifact_id.in_(list(artifact_ids)),
        )
    ).all()
    aliases = _version_aliases(session, [r[0].id for r in rows])
    for row, name in rows:
        out[row.artifact_id].append(_version_entity(row, name, aliases[row.id]))
    return out


def list_versions(
    session: Session, project_id: int, name: str, *, limit: int, cursor: str | None
) -> Page[ModelVersion]:
    model = model_row(session, project_id, name)
    query = select(ModelVersionRow).where(ModelVersionRow.registered_model_id == model.id)
    page = keyset_page(
        session, query, ModelVersionRow, limit=limit, cursor=cursor, to_entity=lambda r: r
    )
    aliases = _version_aliases(session, [r.id for r in page.items])
    return Page([_version_entity(r, name, aliases[r.id]) for r in page.items], page.next_cursor)


def update_version(
    session: Session,
    project_id: int,
    name: str,
    version: int,
    *,
    description: str | None = UNSET,
    tags: dict[str, str] | None = None,
    remove_tags: Sequence[str] = (),
) -> ModelVersion:
    _, row = version_row(session, project_id, name, version)
    if description is not UNSET:
        row.description = description
    if tags or remove_tags:
        merged = {**(row.tags or {}), **(tags or {})}
        for key in remove_tags:
            merged.pop(key, None)
        row.tags = merged
    session.flush()
    return get_version(session, project_id, name, version)


def resolve_alias(session: Session, project_id: int, name: str, alias: str) -> ModelVersion:
    model = model_row(session, project_id, name)
    version = session.scalar(
        select(ModelVersionRow.version)
        .join(ModelAliasRow, ModelAliasRow.model_version_id == ModelVersionRow.id)
        .where(ModelAliasRow.registered_model_id == model.id, ModelAliasRow.alias == alias)
    )
    if version is None:
        raise NotFound(
            f"model {name!r} has no alias {alias!r}", details={"model": name, "alias": alias}
        )
    return get_version(session, project_id, name, version)


def set_alias(
    session: Session,
    project_id: int,
    name: str,
    alias: str,
    version: int | None,
    *,
    expected: int | None = UNSET,
) -> tuple[int | None, int | None]:
    """Point `alias` at `version` (None removes it) if it currently points at `expected`
    (None: it must not exist; UNSET: unconditionally). Returns (previous, new).

    Raises:
        FailedPrecondition: the alias points elsewhere than `expected` — someone else moved it.
        NotFound: no such model or version.
    """
    model = model_row(session, project_id, name, for_update=True)
    current = session.execute(
        select(ModelAliasRow, ModelVersionRow.version)
        .join(ModelVersionRow, ModelVersionRow.id == ModelAliasRow.model_version_id)
        .where(ModelAliasRow.registered_model_id == model.id, ModelAliasRow.alias == alias)
    ).first()
    previous = current[1] if current is not None else None
    if expected is not UNSET and previous != expected:
        raise FailedPrecondition(
            f"alias {alias!r} of model {name!r} points at "
            f"{'no version' if previous is None else f'version {previous}'}, not "
            f"{'no version' if expected is None else f'version {expected}'}; "
            "someone else moved it — read it again and retry",
            details={"model": name, "alias": alias, "current": previous, "expected": expected},
        )
    if version is None:
        if current is not None:
            session.delete(current[0])
    else:
        _, target = version_row(session, project_id, name, version)
        if current is None:
            session.add(
                ModelAliasRow(
                    registered_model_id=model.id,
                    alias=alias,
                    model_version_id=target.id,
                    updated_at=utcnow(),
                )
            )
        else:
            current[0].model_version_id = target.id
            current[0].updated_at = utcnow()
    model.updated_at = utcnow()
    session.flush()
    return previous, version
