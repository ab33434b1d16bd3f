"""Artifact use cases."""

from __future__ import annotations

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Page
from mlledger.store.metadata import artifacts, audit
from mlledger.store.metadata.artifacts import NewArtifact

from .principal import Principal


def create(db: Database, who: Principal, spec: NewArtifact) -> tuple[Artifact, bool]:
    """Log an artifact; returns (artifact, created).

    The same name with the same fingerprint returns the existing version (created=False), so
    logging the same data twice never makes a second version.
    """
    who.require("write")
    with db.write() as session:
        ((artifact, created),) = artifacts.create_many(session, who.project_id, [spec])
        if created:
            audit.record(
                session,
                who.project_id,
                who.actor,
                [audit.artifact_created(artifact)],
            )
        return artifact, created


def get(db: Database, who: Principal, artifact_id: int) -> Artifact:
    who.require("read")
    with db.read() as session:
        return artifacts.get(session, who.project_id, artifact_id)


def list_page(
    db: Database,
    who: Principal,
    *,
    kind: str | None,
    name: str | None,
    context_id: int | None,
    limit: int,
    cursor: str | None,
) -> Page[Artifact]:
    who.require("read")
    with db.read() as session:
        return artifacts.list_page(
            session,
            who.project_id,
            kind=kind,
            name=name,
            context_id=context_id,
            limit=limit,
            cursor=cursor,
        )


def set_state(db: Database, who: Principal, artifact_id: int, state: str) -> Artifact:
    who.require("write")
    with db.write() as session:
        before = artifacts.get(session, who.project_id, artifact_id)
        after = artifacts.set_state(session, who.project_id, artifact_id, state)
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "artifact.update",
                    "artifact",
                    artifact_id,
                    {"state": [before.state, after.state]},
                )
            ],
        )
        return after
