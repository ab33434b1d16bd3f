"""/api/v1/models: the model registry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from mlledger.store.entities import Artifact, ModelVersion
from mlledger.store.registry.models import UNSET

from ..deps import DB, Caller
from ..domain import models
from .artifacts import to_new
from .runs import IdempotencyKey
from .schemas import (
    ERRORS,
    ArtifactIn,
    ArtifactOut,
    Cursor,
    EntityOut,
    Id,
    Key,
    ModelName,
    PageOut,
    RunUuid,
    Strict,
    Tags,
    Text,
    Version,
    exactly_one,
)


class RegisteredModelIn(Strict):
    name: ModelName
    description: Text | None = None
    tags: Tags = Field(default_factory=dict)


class RegisteredModelPatch(Strict):
    description: Text | None = None
    tags: Tags = Field(default_factory=dict)
    remove_tags: Annotated[list[Key], Field(max_length=1000)] = Field(default_factory=list)


class RegisteredModelOut(EntityOut):
    id: int
    name: str
    description: str | None
    tags: dict[str, str]
    latest_version: int
    aliases: dict[str, int]
    created_at: datetime
    updated_at: datetime


def _model_version_rules(schema: dict[str, Any]) -> None:
    schema.update(exactly_one(("artifact",), ("artifact_id",)))
    # A new artifact here is a model: the OpenAPI says so, as the server does.
    artifact = schema["properties"]["artifact"]
    schema["properties"]["artifact"] = {
        "allOf": [artifact, {"properties": {"kind": {"const": "model"}}}]
    }


class ModelVersionIn(Strict):
    model_config = ConfigDict(json_schema_extra=_model_version_rules)

    run: RunUuid | Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")] | None = Field(
        None, description="The run (uuid or id) that wrote the model: the version's lineage."
    )
    artifact: ArtifactIn | None = Field(None, description="A new model artifact (kind model).")
    artifact_id: Id | None = None
    description: Text | None = None
    tags: Tags = Field(default_factory=dict)
    metrics: Annotated[dict[Key, Annotated[float, Field(strict=True)]], Field(max_length=1000)] = (
        Field(default_factory=dict)
    )


class ModelVersionPatch(RegisteredModelPatch):
    pass


class ModelVersionOut(EntityOut):
    id: int
    model: str
    version: int
    artifact_id: int
    run_id: int | None
    description: str | None
    tags: dict[str, str]
    metrics: dict[str, float]
    aliases: list[str]
    created_at: datetime
    stage: str = Field("None", description="MLflow's deprecated stage (None, Staging, ...).")
    artifact: ArtifactOut | None = None

    @classmethod
    def with_artifact(cls, v: ModelVersion, artifact: Artifact) -> ModelVersionOut:
        """The version and the model artifact a create made with it."""
        return cls.of(v).model_copy(update={"artifact": ArtifactOut.of(artifact)})


class AliasIn(Strict):
    version: Version
    expected_version: Version | None = Field(
        None,
        description="Compare-and-set: move only if the alias now points at this version "
        "(null: only if it does not exist). Omit to move unconditionally.",
    )


class AliasOut(BaseModel):
    model: str
    alias: str
    version: int | None
    previous_version: int | None


router = APIRouter(prefix="/models", tags=["models"], responses=ERRORS)

ModelPath = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f/]+$")]
VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
AliasPath = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-.]+$")]


@router.post(
    "",
    operation_id="createModel",
    status_code=201,
    response_model=RegisteredModelOut,
    responses={200: {"model": RegisteredModelOut, "description": "Exists already"}},
)
def create_model(
    body: RegisteredModelIn, db: DB, who: Caller, response: Response
) -> RegisteredModelOut:
    model, created = models.create_model(db, who, body.name, body.description, body.tags)
    if not created:
        response.status_code = 200
    return RegisteredModelOut.of(model)


@router.get("", operation_id="listModels", response_model=PageOut[RegisteredModelOut])
def list_models(
    db: DB,
    who: Caller,
    name_like: Annotated[
        str | None, Query(max_length=256, description="SQL LIKE, any case")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> PageOut[RegisteredModelOut]:
    page = models.list_models(db, who, name_like=name_like, limit=limit, cursor=cursor)
    return PageOut(
        items=[RegisteredModelOut.of(m) for m in page.items], next_cursor=page.next_cursor
    )


@router.get("/{name}", operation_id="getModel", response_model=RegisteredModelOut)
def get_model(name: ModelPath, db: DB, who: Caller) -> RegisteredModelOut:
    return RegisteredModelOut.of(models.get(db, who, name))


@router.patch("/{name}", operation_id="updateModel", response_model=RegisteredModelOut)
def update_model(
    name: ModelPath, body: RegisteredModelPatch, db: DB, who: Caller
) -> RegisteredModelOut:
    description = body.description if "description" in body.model_fields_set else UNSET
    return RegisteredModelOut.of(
        models.update_model(
            db, who, name, description=description, tags=body.tags, remove_tags=body.remove_tags
        )
    )


@router.post(
    "/{name}/versions",
    operation_id="createModelVersion",
    status_code=201,
    response_model=ModelVersionOut,
    responses={
        200: {"model": ModelVersionOut, "description": "This artifact is a version already"}
    },
)
def create_version(
    name: ModelPath,
    body: ModelVersionIn,
    db: DB,
    who: Caller,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ModelVersionOut:
    """Register a model artifact as the next version (the model is created on first use)."""
    version, artifact, created = models.register(
        db,
        who,
        name,
        run=body.run,
        artifact=to_new(body.artifact) if body.artifact is not None else None,
        artifact_id=body.artifact_id,
        description=body.description,
        tags=body.tags,
        metrics=body.metrics,
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = 200
    return ModelVersionOut.with_artifact(version, artifact)


@router.get(
    "/{name}/versions", operation_id="listModelVersions", response_model=PageOut[ModelVersionOut]
)
def list_versions(
    name: ModelPath,
    db: DB,
    who: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> PageOut[ModelVersionOut]:
    """Newest first."""
    page = models.versions(db, who, name, limit=limit, cursor=cursor)
    return PageOut(items=[ModelVersionOut.of(v) for v in page.items], next_cursor=page.next_cursor)


@router.get(
    "/{name}/versions/{version}", operation_id="getModelVersion", response_model=ModelVersionOut
)
def get_version(name: ModelPath, version: VersionPath, db: DB, who: Caller) -> ModelVersionOut:
    return ModelVersionOut.of(models.version(db, who, name, version))


@router.patch(
    "/{name}/versions/{version}",
    operation_id="updateModelVersion",
    response_model=ModelVersionOut,
)
def update_version(
    name: ModelPath, version: VersionPath, body: ModelVersionPatch, db: DB, who: Caller
) -> ModelVersionOut:
    description = body.description if "description" in body.model_fields_set else UNSET
    return ModelVersionOut.of(
        models.update_version(
            db,
            who,
            name,
            version,
            description=description,
            tags=body.tags,
            remove_tags=body.remove_tags,
        )
    )


@router.get(
    "/{name}/aliases/{alias}", operation_id="resolveModelAlias", response_model=ModelVersionOut
)
def resolve_alias(name: ModelPath, alias: AliasPath, db: DB, who: Caller) -> ModelVersionOut:
    return ModelVersionOut.of(models.alias(db, who, name, alias))


@router.put("/{name}/aliases/{alias}", operation_id="setModelAlias", response_model=AliasOut)
def set_alias(name: ModelPath, alias: AliasPath, body: AliasIn, db: DB, who: Caller) -> AliasOut:
    """Point an alias at a version — atomically, and with `expected_version` only if nobody
    moved it since you read it (409 otherwise)."""
    expected = body.expected_version if "expected_version" in body.model_fields_set else UNSET
    before, after = models.set_alias(db, who, name, alias, body.version, expected=expected)
    return AliasOut(model=name, alias=alias, version=after, previous_version=before)


@router.delete("/{name}/aliases/{alias}", operation_id="deleteModelAlias", response_model=AliasOut)
def delete_alias(
    name: ModelPath,
    alias: AliasPath,
    db: DB,
    who: Caller,
    expected_version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Delete only if it points here.")
    ] = None,
) -> AliasOut:
    expected = expected_version if expected_version is not None else UNSET
    before, _ = models.set_alias(db, who, name, alias, None, expected=expected)
    return AliasOut(model=name, alias=alias, version=None, previous_version=before)
