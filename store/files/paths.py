"""A project's artifact paths and the digest each names: what MLflow's artifact routes and
`log_artifact(..., upload=True)` write, listed a folder at a time as MLflow's client browses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import InvalidArgument, NotFound
from ..metadata import bulk
from ..tables import FileRow
from ..tables.base import utcnow

MAX_PATH = 1024


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A child of a listed folder: a file (with its size) or a folder."""

    path: str
    is_dir: bool
    size: int | None


def clean(path: str) -> str:
    """The path as stored, or InvalidArgument: '/'-separated names, none empty, `.` or `..`
    (no path may climb out of its folder), no backslash or control character."""
    text = path.strip("/")
    parts = text.split("/")
    if (
        not text
        or len(text) > MAX_PATH
        or any(p in ("", ".", "..") for p in parts)
        or any(c == "\\" or ord(c) < 32 for c in text)
    ):
        raise InvalidArgument(
            f"artifact path {path[:200]!r} is not '/'-separated names (no '.', '..', empty "
            f"names, backslashes or control characters; at most {MAX_PATH} characters)",
            details={"path": path[:200]},
        )
    return text


def put(session: Session, project_id: int, path: str, digest: str, size: int) -> StoredFile:
    """Name `digest` by `path`; a path written again names the new content (as MLflow's
    artifact store overwrites), the old bytes stay for whatever else names them."""
    table = bulk.table_of(FileRow)
    values = {"project_id": project_id, "path": path, "digest": digest, "size": size}
    session.execute(
        bulk.dialect_insert(session)(table)
        .values(**values, created_at=utcnow())
        .on_conflict_do_update(
            index_elements=["project_id", "path"],
            set_={"digest": digest, "size": size, "created_at": utcnow()},
        )
    )
    return StoredFile(path, digest, size)


def get(session: Session, project_id: int, path: str) -> StoredFile:
    row = session.get(FileRow, (project_id, path))
    if row is None:
        raise NotFound(f"no artifact at {path!r}", details={"path": path})
    return StoredFile(row.path, row.digest, row.size)


def under(session: Session, project_id: int, folder: str) -> list[StoredFile]:
    """Every file below `folder` (or the file itself), in path order."""
    prefix = folder.rstrip("/") + "/"
    rows = session.scalars(
        select(FileRow)
        .where(
            FileRow.project_id == project_id,
            (FileRow.path == folder)
            | (
                (FileRow.path >= prefix) & (FileRow.path < prefix[:-1] + "0")  # '0' follows '/'
            ),
        )
        .order_by(FileRow.path)
    )
    return [StoredFile(r.path, r.digest, r.size) for r in rows]


def children(session: Session, project_id: int, folder: str) -> list[Entry]:
    """The files and folders directly in `folder` ('' for the project's top)."""
    found = under(session, project_id, folder) if folder else _all(session, project_id)
    start = len(folder.rstrip("/")) + 1 if folder else 0
    out: dict[str, Entry] = {}
    for f in found:
        if f.path == folder:
            continue
        rest = f.path[start:]
        name, slash, _ = rest.partition("/")
        child = f"{folder.rstrip('/')}/{name}" if folder else name
        out.setdefault(child, Entry(child, bool(slash), None if slash else f.size))
    return [out[k] for k in sorted(out)]


def _all(session: Session, project_id: int) -> list[StoredFile]:
    rows = session.scalars(
        select(FileRow).where(FileRow.project_id == project_id).order_by(FileRow.path)
    )
    return [StoredFile(r.path, r.digest, r.size) for r in rows]


def remove(session: Session, project_id: int, paths: Sequence[str]) -> None:
    if paths:
        session.execute(
            delete(FileRow).where(FileRow.project_id == project_id, FileRow.path.in_(paths))
        )
