"""Artifact files: bytes uploaded by MLflow's client (and mlledger's `upload=True`), stored by
content (store/files/objects.py) and named per project by path."""

from __future__ import annotations

from mlledger.store.database import Database
from mlledger.store.entities import ModelVersion
from mlledger.store.errors import FailedPrecondition
from mlledger.store.files import paths
from mlledger.store.files.objects import ObjectStore, Spooled
from mlledger.store.files.paths import Entry, StoredFile
from mlledger.store.metadata import artifacts
from mlledger.store.registry import models

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
    # A `.` name is dropped here (MLflow's client lists `<run>/artifacts/.`); a path to write
    # or read must be plain names.
    names = [p for p in folder.split("/") if p not in ("", ".")]
    folder = paths.clean("/".join(names)) if names else ""
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


# Artifact URIs whose files are in the artifact store, and the folder each names.
STORE_SCHEMES = ("mlledger-artifacts:/", "mlflow-artifacts:/")


def folder_of(uri: str | None) -> str | None:
    for scheme in STORE_SCHEMES:
        if uri and uri.startswith(scheme):
            return uri[len(scheme) :].strip("/")
    return None


def of_model(
    db: Database, who: Principal, name: str, *, version: int | None = None, alias: str | None = None
) -> tuple[ModelVersion, str, list[StoredFile]]:
    """A model version's files (by number or alias): the version, its folder, the files in it.

    Raises:
        NotFound: no such model, version or alias.
        FailedPrecondition: the version's artifact is not in the artifact store (logged with
            its URI only: the bytes stayed where they were written).
    """
    who.require("read")
    with db.read() as session:
        found = (
            models.resolve_alias(session, who.project_id, name, alias)
            if alias is not None
            else models.get_version(session, who.project_id, name, version or 0)
        )
        artifact = artifacts.get(session, who.project_id, found.artifact_id)
        folder = folder_of(artifact.uri)
        if folder is None:
            raise FailedPrecondition(
                f"{name} v{found.version} was logged as {artifact.uri!r}: its files are not in "
                "the artifact store (log it with upload=True to keep them here)",
                details={"uri": artifact.uri},
            )
        return found, folder, paths.under(session, who.project_id, folder)
