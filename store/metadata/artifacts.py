"""Artifacts: versioned by name, deduplicated by content fingerprint."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ..entities import Artifact, Page
from ..errors import AlreadyExists, InvalidArgument, NotFound
from ..tables import ArtifactRow, ArtifactSeriesRow, AttributionRow
from ..tables.base import utcnow
from . import bulk, external_ids
from .pagination import keyset_page


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
    """By id; ids of other projects (or of nothing) are simply absent."""
    rows = bulk.by_ids(session, ArtifactRow, project_id, ids)
    return {i: to_entity(r) for i, r in rows.items()}


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


def find_by_content(
    session: Session, project_id: int, uri: str, fingerprint: str
) -> Artifact | None:
    """The newest artifact holding these bytes at this place, whatever it was named."""
    row = session.scalar(
        select(ArtifactRow)
        .where(
            ArtifactRow.project_id == project_id,
            ArtifactRow.fingerprint == fingerprint,
            ArtifactRow.uri == uri,
        )
        .order_by(ArtifactRow.id.desc())
        .limit(1)
    )
    return to_entity(row) if row is not None else None


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
    query = select(ArtifactRow).where(ArtifactRow.project_id == project_id)
    if kind is not None:
        query = query.where(ArtifactRow.kind == kind)
    if name is not None:
        query = query.where(ArtifactRow.name == name)
    if context_id is not None:
        query = query.join(AttributionRow, AttributionRow.artifact_id == ArtifactRow.id).where(
            AttributionRow.context_id == context_id
        )
    return keyset_page(session, query, ArtifactRow, limit=limit, cursor=cursor, to_entity=to_entity)


def by_fingerprints(
    session: Session, project_id: int, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Artifact]:
    """The artifacts with these (name, fingerprint) pairs: the same content in a series."""
    found: dict[tuple[str, str], Artifact] = {}
    for part in bulk.chunks(sorted(set(pairs))):
        rows = session.scalars(
            select(ArtifactRow).where(
                ArtifactRow.project_id == project_id,
                tuple_(ArtifactRow.name, ArtifactRow.fingerprint).in_(part),
            )
        )
        found.update(((r.name, r.fingerprint or ""), to_entity(r)) for r in rows)
    return found


def newest_versions(
    session: Session, project_id: int, names: Sequence[str], per_name: int
) -> dict[str, list[Artifact]]:
    """Each series' newest `per_name` versions, newest first, in one statement per chunk of
    names (a window over each series, so a long series costs no more rows than a short one)."""
    out: dict[str, list[Artifact]] = {n: [] for n in names}
    for part in bulk.chunks(sorted(set(names))):
        ranked = (
            select(
                ArtifactRow.id,
                func.row_number()
                .over(partition_by=ArtifactRow.name, order_by=ArtifactRow.version.desc())
                .label("rank"),
            )
            .where(ArtifactRow.project_id == project_id, ArtifactRow.name.in_(part))
            .subquery()
        )
        rows = session.scalars(
            select(ArtifactRow)
            .join(ranked, ranked.c.id == ArtifactRow.id)
            .where(ranked.c.rank <= per_name)
            .order_by(ArtifactRow.name, ArtifactRow.version.desc())
        )
        for r in rows:
            out[r.name].append(to_entity(r))
    return out


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

    # Without fingerprints nothing can be deduplicated, so the lock can reserve the versions
    # outright; otherwise it only locks, and the versions are stored once dedupe is known.
    fingerprinted = any(s.fingerprint is not None for s in specs)
    reserve = {} if fingerprinted else dict(Counter(s.name for s in specs))
    series = _lock_series(session, project_id, kinds, reserve)
    for name, (kind, _) in series.items():
        if kind != kinds[name]:
            raise AlreadyExists(
                f"artifact name {name!r} is already used by a {kind} artifact",
                details={"name": name, "existing_kind": kind, "requested_kind": kinds[name]},
            )

    # Under the series locks, any artifact with the same content is visible and final.
    existing = by_fingerprints(
        session, project_id, [(s.name, s.fingerprint) for s in specs if s.fingerprint is not None]
    )

    now = utcnow()
    next_version = {name: last - reserve.get(name, 0) for name, (_, last) in series.items()}
    first_free = dict(next_version)
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
                "created_at": now,
            }
        )

    created: list[Artifact] = []
    if new_rows:
        new_ids = bulk.insert_rows(session, bulk.table_of(ArtifactRow), new_rows)
        created = [Artifact(id=i, **row) for i, row in zip(new_ids, new_rows, strict=True)]
        # The first dataset seen at a location names the location's series (external_ids.py):
        # what OpenLineage later reports there joins it.
        located = {a.uri: a.id for a in reversed(created) if a.kind == "dataset" and a.uri}
        if located:
            external_ids.claim_many(session, project_id, "location", "dataset", located)
        if fingerprinted:
            _bump_series(
                session,
                project_id,
                {n: v for n, v in next_version.items() if v != first_free[n]},
            )
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
    session: Session, project_id: int, kinds: dict[str, str], reserve: dict[str, int]
) -> dict[str, tuple[str, int]]:
    """Ensure a series row per name, lock it and add `reserve[name]` (default 0) to its last
    version; returns name -> (kind, last version after the addition).

    Names are upserted in sorted order, so concurrent batches take their row locks in the same
    order and cannot deadlock. Even a +0 DO UPDATE locks the row (Postgres) and makes RETURNING
    report existing rows; results are matched by name.
    """
    names = sorted(kinds)
    if session.get_bind().dialect.name == "postgresql":
        # Arrays keep this a 3-parameter statement however many names the batch has.
        result = session.execute(
            text(
                "INSERT INTO artifact_series (project_id, name, kind, last_version) "
                "SELECT :project_id, t.name, t.kind, t.n "
                "FROM unnest(CAST(:names AS text[]), CAST(:kinds AS text[]), "
                "            CAST(:counts AS integer[])) AS t(name, kind, n) "
                "ORDER BY t.name "
                "ON CONFLICT (project_id, name) DO UPDATE "
                "SET last_version = artifact_series.last_version + EXCLUDED.last_version "
                "RETURNING name, kind, last_version"
            ),
            {
                "project_id": project_id,
                "names": names,
                "kinds": [kinds[n] for n in names],
                "counts": [reserve.get(n, 0) for n in names],
            },
        )
        return {name: (kind, last) for name, kind, last in result}
    table = bulk.table_of(ArtifactSeriesRow)
    found: dict[str, tuple[str, int]] = {}
    for start in range(0, len(names), _SERIES_CHUNK):
        rows = [
            {
                "project_id": project_id,
                "name": n,
                "kind": kinds[n],
                "last_version": reserve.get(n, 0),
            }
            for n in names[start : start + _SERIES_CHUNK]
        ]
        upsert = sqlite.insert(table).values(rows)
        statement = upsert.on_conflict_do_update(
            index_elements=[table.c.project_id, table.c.name],
            set_={"last_version": table.c.last_version + upsert.excluded.last_version},
        ).returning(table.c.name, table.c.kind, table.c.last_version)
        for name, kind, last in session.execute(statement):
            found[name] = (kind, last)
    return found


# 4 bound parameters a row: well under SQLite's limit of 32,766 per statement.
_SERIES_CHUNK = 4000


def _bump_series(session: Session, project_id: int, last: dict[str, int]) -> None:
    """Store the new last versions of the (locked) series rows."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "UPDATE artifact_series AS s SET last_version = v.last "
                "FROM unnest(CAST(:names AS text[]), CAST(:lasts AS integer[])) AS v(name, last) "
                "WHERE s.project_id = :project_id AND s.name = v.name"
            ),
            {"project_id": project_id, "names": list(last), "lasts": list(last.values())},
        )
        return
    # SQLite runs in-process: executemany costs no round trips.
    session.execute(
        update(ArtifactSeriesRow),
        [{"project_id": project_id, "name": n, "last_version": v} for n, v in last.items()],
    )


def set_state(session: Session, project_id: int, artifact_id: int, state: str) -> Artifact:
    row = session.get(ArtifactRow, artifact_id, with_for_update=True)
    if row is None or row.project_id != project_id:
        raise NotFound(
            f"artifact {artifact_id} does not exist", details={"artifact_id": artifact_id}
        )
    row.state = state
    session.flush()
    return to_entity(row)


def fill_in(
    session: Session,
    project_id: int,
    artifact_id: int,
    *,
    uri: str | None = None,
    fingerprint: str | None = None,
    properties: dict[str, Any] | None = None,
    state: str | None = None,
) -> Artifact:
    """Fill in what a pending artifact learns later (its files, its content), under its row
    lock. A fingerprint another version of the name already has is left unset (that version
    is the same content) and named in `properties["same_content_as"]`."""
    row = session.get(ArtifactRow, artifact_id, with_for_update=True)
    if row is None or row.project_id != project_id:
        raise NotFound(
            f"artifact {artifact_id} does not exist", details={"artifact_id": artifact_id}
        )
    if uri is not None:
        row.uri = uri
    if properties is not None:
        row.properties = properties
    if fingerprint is not None and fingerprint != row.fingerprint:
        twin = session.scalar(
            select(ArtifactRow.id).where(
                ArtifactRow.project_id == project_id,
                ArtifactRow.name == row.name,
                ArtifactRow.fingerprint == fingerprint,
            )
        )
        if twin is None:
            row.fingerprint = fingerprint
        else:
            row.properties = {**(row.properties or {}), "same_content_as": twin}
    if state is not None:
        row.state = state
    session.flush()
    return to_entity(row)


def of_contexts(
    session: Session,
    project_id: int,
    context_ids: Sequence[int],
    *,
    kind: str,
    name: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Artifact]:
    """Artifacts of `kind` attributed to any of the contexts, newest first."""
    query = (
        select(ArtifactRow)
        .join(AttributionRow, AttributionRow.artifact_id == ArtifactRow.id)
        .where(
            ArtifactRow.project_id == project_id,
            ArtifactRow.kind == kind,
            AttributionRow.context_id.in_(list(context_ids)),
        )
        .distinct()
        .order_by(ArtifactRow.id.desc())
        .offset(offset)
        .limit(limit)
    )
    if name is not None:
        query = query.where(ArtifactRow.name == name)
    return [to_entity(r) for r in session.scalars(query)]


def lock_many(session: Session, project_id: int, ids: Sequence[int]) -> dict[int, Artifact]:
    """By id, under row locks taken in id order (see executions.lock_many)."""
    rows = bulk.by_ids(session, ArtifactRow, project_id, ids, lock=True)
    return {i: to_entity(r) for i, r in rows.items()}


def set_properties_many(session: Session, properties: dict[int, dict[str, Any]]) -> None:
    """Replace the properties of artifacts locked by `lock_many`."""
    bulk.update_rows(
        session,
        bulk.table_of(ArtifactRow),
        [{"id": i, "properties": p} for i, p in sorted(properties.items())],
    )
