"""/api/v1/artifacts"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from mlledger.store.metadata.artifacts import NewArtifact

from ..deps import DB, Caller
from ..domain import artifacts
from .schemas import (
    ERRORS,
    ArtifactIn,
    ArtifactKind,
    ArtifactOut,
    ArtifactState,
    Cursor,
    PageOut,
    Strict,
)

router = APIRouter(prefix="/artifacts", tags=["artifacts"], responses=ERRORS)

ArtifactId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class ArtifactPatch(Strict):
    state: ArtifactState


def to_new(body: ArtifactIn) -> NewArtifact:
    return NewArtifact(
        kind=body.kind,
        name=body.name,
        uri=body.uri,
        fingerprint=body.fingerprint,
        properties=body.properties,
        state=body.state,
    )


@router.post(
    "",
    operation_id="createArtifact",
    status_code=201,
    response_model=ArtifactOut,
    responses={200: {"model": ArtifactOut, "description": "Same name and fingerprint: existing"}},
)
def create_artifact(body: ArtifactIn, db: DB, who: Caller, response: Response) -> ArtifactOut:
    """Log an artifact: a new version of its name, or the existing one with the same content."""
    artifact, created = artifacts.create(db, who, to_new(body))
    if not created:
        response.status_code = 200
    return ArtifactOut.of(artifact)


@router.get("/{artifact_id}", operation_id="getArtifact", response_model=ArtifactOut)
def get_artifact(artifact_id: ArtifactId, db: DB, who: Caller) -> ArtifactOut:
    return ArtifactOut.of(artifacts.get(db, who, artifact_id))


@router.patch("/{artifact_id}", operation_id="updateArtifact", response_model=ArtifactOut)
def update_artifact(
    artifact_id: ArtifactId, body: ArtifactPatch, db: DB, who: Caller
) -> ArtifactOut:
    """Change an artifact's state (pending -> live, or mark it deleted; rows are never removed)."""
    return ArtifactOut.of(artifacts.set_state(db, who, artifact_id, body.state))


@router.get("", operation_id="listArtifacts", response_model=PageOut[ArtifactOut])
def list_artifacts(
    db: DB,
    who: Caller,
    kind: ArtifactKind | None = None,
    name: Annotated[str | None, Query(max_length=256)] = None,
    context_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> PageOut[ArtifactOut]:
    """Newest first."""
    page = artifacts.list_page(
        db, who, kind=kind, name=name, context_id=context_id, limit=limit, cursor=cursor
    )
    return PageOut(items=[ArtifactOut.of(a) for a in page.items], next_cursor=page.next_cursor)
