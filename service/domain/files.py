"""Artifact files: bytes uploaded by MLflow's client (and mlledger's `upload=True`), stored by
content (store/files/objects.py) and named per project by path."""

from __future__ import annotations

from mlledger.store.database import Database
from mlledger.store.files import paths
from mlledger.store.files.objects import ObjectStore, Spooled
from mlledger.store.files.paths import Entry, StoredFile

from .principal import Principal


def keep(
    db: Database, objects: ObjectStore, who: Principal, path: str, spooled: Spooled
) -> StoredFile:
    """Store the upload and name it `path` in the caller's project. The bytes go first: a
    name never points at content the store does not hold."""
    who.require("write")
    path = paths.clean(path)
    objects.keep(spooled)
    with db.write() as session:
        return paths.put(session, who.project_id, path, spooled.digest, spooled.size)


def get(db: Database, who: Principal, path: str) -> StoredFile:
    who.require("read")
    with db.read() as session:
        return paths.get(session, who.project_id, paths.clean(path))


def listing(db: Database, who: Principal, folder: str) -> list[Entry]:
    who.require("read")
    folder = paths.clean(folder) if folder.strip("/") else ""
    with db.read() as session:
        return paths.children(session, who.project_id, folder)


def under(db: Database, who: Principal, folder: str) -> list[StoredFile]:
    who.require("read")
    with db.read() as session:
        return paths.under(session, who.project_id, paths.clean(folder))


def remove(db: Database, who: Principal, path: str) -> int:
    """Forget a file or a folder's files (their bytes stay while anything names them)."""
    who.require("write")
    with db.write() as session:
        gone = paths.under(session, who.project_id, paths.clean(path))
        paths.remove(session, who.project_id, [f.path for f in gone])
        return len(gone)
