"""Artifacts: versioned by name, deduplicated by content fingerprint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..entities import Artifact, Page
from ..errors import AlreadyExists, InvalidArgument, NotFound
from ..models import ArtifactRow, ArtifactSeriesRow
from .pagination import decode_cursor, encode_cursor


@dataclass(frozen=True, slots=True)
class NewArtifact:
    kind: str
    name: str
    uri: str | None = None
    fingerprint: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    state: str = "live"


def to_entity(row: ArtifactRow) -> Artifact:
    return Artifact(
        id=row.id,
        project_id=row.project_id,
        kind=row.kind,
        name=row.name,
        version=row.version,
        uri=row.uri,
        fingerprint=row.fingerprint,
        properties=row.properties or {},
        state=row.state,
        created_at=row.created_at,
    )


def get(session: Session, project_id: int, artifact_id: int) -> Artifact:
    row = session.get(ArtifactRow, artifact_id)
    if row is None or row.project_id != project_id:
        raise NotFound(
            f"artifact {artifact_id} does not exist", details={"artifact_id": artifact_id}
        )
    return to_entity(row)


def get_many(session: Session, project_id: int, ids: Sequence[int]) -> dict[int, Artifact]:
    """Artifacts by id, in one statement; ids of other projects are simply absent."""
    if not ids:
        return {}
    rows = session.scalars(
        select(ArtifactRow).where(
            ArtifactRow.id.in_(set(ids)), ArtifactRow.project_id == project_id
        )
    )
    return {row.id: to_entity(row) for row in rows}


def get_by_name(session: Session, project_id: int, name: str, version: int | None) -> Artifact:
    """A named version, or the latest one when `version` is None."""
    query = select(ArtifactRow).where(
        ArtifactRow.project_id == project_id, ArtifactRow.name == name
    )
    if version is None:
        query = query.order_by(ArtifactRow.version.desc()).limit(1)
    else:
        query = query.where(ArtifactRow.version == version)
    row = session.scalar(query)
    if row is None:
        label = name if version is None else f"{name}:{version}"
        raise NotFound(
            f"artifact {label!r} does not exist", details={"name": name, "version": version}
        )
    return to_entity(row)


def list_page(
    session: Session,
    project_id: int,
    *,
    kind: str | None = None,
    name: str | None = None,
    context_id: int | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Artifact]:
    """Newest first, keyset-paginated."""
    from ..models import AttributionRow

    query = select(ArtifactRow).where(ArtifactRow.project_id == project_id)
    if kind is not None:
        query = query.where(ArtifactRow.kind == kind)
    if name is not None:
        query = query.where(ArtifactRow.name == name)
    if context_id is not None:
        query = query.join(AttributionRow, AttributionRow.artifact_id == ArtifactRow.id).where(
            AttributionRow.context_id == context_id
        )
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(ArtifactRow.id < before)
    rows = list(session.scalars(query.order_by(ArtifactRow.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[to_entity(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )


def create_many(
    session: Session, project_id: int, specs: Sequence[NewArtifact]
) -> list[tuple[Artifact, bool]]:
    """Create artifacts, versioning and deduplicating them: one (artifact, created) per spec.

    A spec whose name and fingerprint match an existing artifact returns that artifact instead
    of a new version. Versions are allocated under a row lock on each name's series (taken in
    name order, so concurrent batches cannot deadlock): concurrent writers of one name get
    distinct consecutive versions and nothing fails.

    Raises:
        AlreadyExists: the name already belongs to an artifact of another kind.
        InvalidArgument: one batch gives one name two kinds.
    """
    if not specs:
        return []
    kinds: dict[str, str] = {}
    for spec in specs:
        if kinds.setdefault(spec.name, spec.kind) != spec.kind:
            raise InvalidArgument(
                f"artifact name {spec.name!r} is given two kinds in one request",
                details={"name": spec.name, "kinds": sorted({kinds[spec.name], spec.kind})},
            )

    series = _lock_series(session, project_id, kinds)
    for name, (kind, _) in series.items():
        if kind != kinds[name]:
            raise AlreadyExists(
                f"artifact name {name!r} is already used by a {kind} artifact",
                details={"name": name, "existing_kind": kind, "requested_kind": kinds[name]},
            )

    # Under the series locks, any artifact with the same content is visible and final.
    wanted = {(s.name, s.fingerprint) for s in specs if s.fingerprint is not None}
    existing: dict[tuple[str, str], Artifact] = {}
    if wanted:
        rows = session.scalars(
            select(ArtifactRow).where(
                ArtifactRow.project_id == project_id,
                tuple_(ArtifactRow.name, ArtifactRow.fingerprint).in_(sorted(wanted)),
            )
        )
        existing = {(r.name, r.fingerprint or ""): to_entity(r) for r in rows}

    next_version = {name: last for name, (_, last) in series.items()}
    # Each result is an existing artifact or the index of a row to insert; the same content
    # twice in one batch is one new version.
    results: list[Artifact | int] = []
    pending: dict[tuple[str, str], int] = {}
    new_rows: list[dict[str, Any]] = []
    for spec in specs:
        if spec.fingerprint is not None:
            key = (spec.name, spec.fingerprint)
            if key in existing:
                results.append(existing[key])
                continue
            if key in pending:
                results.append(pending[key])
                continue
            pending[key] = len(new_rows)
        next_version[spec.name] += 1
        results.append(len(new_rows))
        new_rows.append(
            {
                "project_id": project_id,
                "kind": spec.kind,
                "name": spec.name,
                "version": next_version[spec.name],
                "uri": spec.uri,
                "fingerprint": spec.fingerprint,
                "properties": spec.properties,
                "state": spec.state,
            }
        )

    created: list[Artifact] = []
    if new_rows:
        rows = session.scalars(
            insert(ArtifactRow).returning(ArtifactRow, sort_by_parameter_order=True), new_rows
        )
        created = [to_entity(r) for r in rows]
        changed = [
            {"project_id": project_id, "name": name, "last_version": version}
            for name, version in next_version.items()
            if version != series[name][1]
        ]
        session.execute(update(ArtifactSeriesRow), changed)
    out: list[tuple[Artifact, bool]] = []
    reported: set[int] = set()
    for r in results:
        if isinstance(r, int):
            out.append((created[r], r not in reported))
            reported.add(r)
        else:
            out.append((r, False))
    return out


def _lock_series(
    session: Session, project_id: int, kinds: dict[str, str]
) -> dict[str, tuple[str, int]]:
    """Ensure a series row per name and lock it; returns name -> (kind, last version)."""
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = [
        {"project_id": project_id, "name": name, "kind": kinds[name], "last_version": 0}
        for name in sorted(kinds)
    ]
    # A no-op update still takes the row lock (Postgres) and makes RETURNING report the row.
    statement = (
        insert_(ArtifactSeriesRow)
        .on_conflict_do_update(
            index_elements=[ArtifactSeriesRow.project_id, ArtifactSeriesRow.name],
            set_={"last_version": ArtifactSeriesRow.last_version},
        )
        .returning(
            ArtifactSeriesRow.name,
            ArtifactSeriesRow.kind,
            ArtifactSeriesRow.last_version,
            sort_by_parameter_order=True,
        )
    )
    found: dict[str, tuple[str, int]] = {}
    for name, kind, last in session.execute(statement, values):
        found[name] = (kind, last)
    return found


def set_state(session: Session, project_id: int, artifact_id: int, state: str) -> Artifact:
    row = session.get(ArtifactRow, artifact_id, with_for_update=True)
    if row is None or row.project_id != project_id:
        raise NotFound(
            f"artifact {artifact_id} does not exist", details={"artifact_id": artifact_id}
        )
    row.state = state
    session.flush()
    return to_entity(row)
