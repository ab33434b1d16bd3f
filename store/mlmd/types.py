"""MLMD's type registry: ArtifactType, ExecutionType and ContextType by name and version.

A type's properties are a map name -> MLMD PropertyType number. Putting a type that exists
follows MLMD's rules: the stored type wins unless the caller allows adding (`can_add_fields`)
or omitting (`can_omit_fields`) properties; a property may never change its value type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ..errors import AlreadyExists, InvalidArgument, NotFound
from ..kinds import ARTIFACT_KINDS, CONTEXT_KINDS, EXECUTION_KINDS
from ..tables.mlmd import MlmdTypeRow

TypeKind = Literal["artifact", "execution", "context"]

# MLMD's PropertyType numbers: INT, DOUBLE, STRING, STRUCT, PROTO, BOOLEAN (0 is UNKNOWN).
PROPERTY_TYPES = frozenset(range(1, 7))

# The types mlledger's own nodes are read under: one per kind, named after it.
KIND_TYPES: dict[TypeKind, tuple[str, ...]] = {
    "artifact": ARTIFACT_KINDS,
    "execution": EXECUTION_KINDS,
    "context": CONTEXT_KINDS,
}


@dataclass
class MlmdType:
    kind: TypeKind
    name: str
    id: int | None = None
    version: str | None = None
    description: str | None = None
    external_id: str | None = None
    base_type: int | None = None
    properties: dict[str, int] = field(default_factory=dict)
    # Execution types' input_type/output_type (ArtifactStructType), kept as sent.
    extra: dict[str, Any] = field(default_factory=dict)


def _entity(row: MlmdTypeRow) -> MlmdType:
    return MlmdType(
        kind=row.type_kind,  # type: ignore[arg-type]
        id=row.id,
        name=row.name,
        version=row.version or None,
        description=row.description,
        external_id=row.external_id,
        base_type=row.base_type,
        properties=dict(row.properties),
        extra=dict(row.extra),
    )


def _validate(t: MlmdType) -> None:
    if not t.name:
        raise InvalidArgument(f"an {t.kind} type needs a name")
    if len(t.name) > 256 or len(t.version or "") > 256:
        raise InvalidArgument(f"{t.kind} type name and version are at most 256 characters")
    if t.external_id is not None and not 0 < len(t.external_id) <= 1024:
        raise InvalidArgument(f"{t.kind} type {t.name!r}: external_id is 1-1024 characters")
    for name, value_type in t.properties.items():
        if not name or len(name) > 256:
            raise InvalidArgument(f"{t.kind} type {t.name!r}: property names are 1-256 characters")
        if value_type not in PROPERTY_TYPES:
            raise InvalidArgument(
                f"{t.kind} type {t.name!r}: property {name!r} has no value type (UNKNOWN)"
            )


def put(
    session: Session,
    project_id: int,
    wanted: MlmdType,
    *,
    can_add_fields: bool = False,
    can_omit_fields: bool = False,
) -> int:
    """The id of the type named `wanted.name` (and version), created or reconciled.

    Raises:
        InvalidArgument: the type is malformed.
        AlreadyExists: it differs from the stored type in a way the flags do not allow, or its
            external id belongs to another type.
    """
    _validate(wanted)
    row = session.scalars(
        select(MlmdTypeRow)
        .where(
            MlmdTypeRow.project_id == project_id,
            MlmdTypeRow.type_kind == wanted.kind,
            MlmdTypeRow.name == wanted.name,
            MlmdTypeRow.version == (wanted.version or ""),
        )
        .with_for_update()
    ).first()
    if wanted.external_id is not None:
        owner = session.scalars(
            select(MlmdTypeRow.id).where(
                MlmdTypeRow.project_id == project_id,
                MlmdTypeRow.type_kind == wanted.kind,
                MlmdTypeRow.external_id == wanted.external_id,
            )
        ).first()
        if owner is not None and (row is None or owner != row.id):
            raise AlreadyExists(
                f"{wanted.kind} type external_id {wanted.external_id!r} is taken by type {owner}"
            )
    if row is None:
        row = MlmdTypeRow(
            project_id=project_id,
            type_kind=wanted.kind,
            name=wanted.name,
            version=wanted.version or "",
            description=wanted.description,
            external_id=wanted.external_id,
            base_type=wanted.base_type,
            properties=dict(wanted.properties),
            extra=dict(wanted.extra),
        )
        session.add(row)
        session.flush()
        return row.id
    stored: dict[str, int] = dict(row.properties)
    label = f"{wanted.kind} type {wanted.name!r}" + (
        f" version {wanted.version!r}" if wanted.version else ""
    )
    for name, value_type in wanted.properties.items():
        if name in stored and stored[name] != value_type:
            raise AlreadyExists(f"{label}: property {name!r} is stored with another value type")
    added = sorted(set(wanted.properties) - set(stored))
    omitted = sorted(set(stored) - set(wanted.properties))
    if added and not can_add_fields:
        raise AlreadyExists(
            f"{label} exists without properties {added}; pass can_add_fields to add them"
        )
    if omitted and not can_omit_fields:
        raise AlreadyExists(
            f"{label} exists with properties {omitted} this request omits; "
            "pass can_omit_fields to keep them"
        )
    if wanted.external_id is not None and row.external_id not in (None, wanted.external_id):
        raise AlreadyExists(f"{label} has external_id {row.external_id!r} already")
    if added:
        row.properties = {**stored, **{n: wanted.properties[n] for n in added}}
    if wanted.external_id is not None:
        row.external_id = wanted.external_id
    if wanted.description is not None and row.description is None:
        row.description = wanted.description
    if wanted.base_type is not None and row.base_type is None:
        row.base_type = wanted.base_type
    session.flush()
    return row.id


def get(
    session: Session, project_id: int, kind: TypeKind, name: str, version: str | None
) -> MlmdType:
    """Raises NotFound."""
    row = session.scalars(
        select(MlmdTypeRow).where(
            MlmdTypeRow.project_id == project_id,
            MlmdTypeRow.type_kind == kind,
            MlmdTypeRow.name == name,
            MlmdTypeRow.version == (version or ""),
        )
    ).first()
    if row is None:
        raise NotFound(
            f"no {kind} type named {name!r}" + (f" with version {version!r}" if version else "")
        )
    return _entity(row)


def find(
    session: Session, project_id: int, kind: TypeKind, name: str, version: str | None
) -> MlmdType | None:
    try:
        return get(session, project_id, kind, name, version)
    except NotFound:
        return None


def list_all(session: Session, project_id: int, kind: TypeKind) -> list[MlmdType]:
    rows = session.scalars(
        select(MlmdTypeRow)
        .where(MlmdTypeRow.project_id == project_id, MlmdTypeRow.type_kind == kind)
        .order_by(MlmdTypeRow.id)
    )
    return [_entity(r) for r in rows]


def by_ids(
    session: Session, project_id: int, kind: TypeKind | None, ids: Sequence[int]
) -> list[MlmdType]:
    """The types with these ids (of one kind, or any), in id order; ids of no such type are
    left out (as MLMD does)."""
    return _where_in(session, project_id, kind, MlmdTypeRow.id, ids)


def by_external_ids(
    session: Session, project_id: int, kind: TypeKind, external_ids: Sequence[str]
) -> list[MlmdType]:
    return _where_in(session, project_id, kind, MlmdTypeRow.external_id, external_ids)


def _where_in(
    session: Session, project_id: int, kind: TypeKind | None, column: Any, values: Sequence[Any]
) -> list[MlmdType]:
    if not values:
        return []
    query = select(MlmdTypeRow).where(
        MlmdTypeRow.project_id == project_id, column.in_(sorted(set(values)))
    )
    if kind is not None:
        query = query.where(MlmdTypeRow.type_kind == kind)
    rows = session.scalars(query.order_by(MlmdTypeRow.id))
    return [_entity(r) for r in rows]


def by_names(
    session: Session, project_id: int, kind: TypeKind, names: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], MlmdType]:
    """(name, version or "") -> type."""
    if not names:
        return {}
    rows = session.scalars(
        select(MlmdTypeRow).where(
            MlmdTypeRow.project_id == project_id,
            MlmdTypeRow.type_kind == kind,
            tuple_(MlmdTypeRow.name, MlmdTypeRow.version).in_(sorted(set(names))),
        )
    )
    return {(r.name, r.version): _entity(r) for r in rows}


def ensure_kind_types(session: Session, project_id: int) -> dict[tuple[str, str], int]:
    """(node kind, mlledger kind) -> the id of the type mlledger's own nodes of that kind are
    read under, created if missing (MLMD readers need a type id for every node)."""
    out: dict[tuple[str, str], int] = {}
    for kind, names in KIND_TYPES.items():
        for name in names:
            found = find(session, project_id, kind, name, None)
            out[(kind, name)] = (
                found.id
                if found and found.id is not None
                else put(session, project_id, MlmdType(kind=kind, name=name))
            )
    return out


def with_id(t: MlmdType, type_id: int) -> MlmdType:
    return replace(t, id=type_id)
