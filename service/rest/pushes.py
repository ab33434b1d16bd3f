"""Pushes over REST: push or roll back an alias of a gated model, and the push log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from fastapi import APIRouter, Query, Response
from pydantic import ConfigDict, Field, StrictBool, model_validator

from ..deps import DB, Caller
from ..domain import pushes
from ..domain.gate_types import PushReason
from .models import ModelPath
from .schemas import ERRORS, AliasName, Cursor, EntityOut, PageOut, Strict, Version

router = APIRouter(prefix="/models", tags=["model gates"], responses=ERRORS)


class ModelPushIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["version"],
                    "properties": {"version": {"type": "integer"}, "rollback": {"const": False}},
                },
                {
                    "required": ["rollback"],
                    "properties": {"rollback": {"const": True}, "version": {"type": "null"}},
                },
            ]
        }
    )

    version: Version | None = None
    to: AliasName = "production"
    rollback: StrictBool = Field(False, description="Back to the version before the last push.")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.version is None) != self.rollback:
            raise ValueError("give a version to push, or rollback: true (not both)")
        return self


class ModelPushOut(EntityOut):
    id: int
    model: str
    alias: str
    action: Literal["push", "rollback"]
    version: int | None
    previous_version: int | None
    outcome: Literal["pushed", "refused", "unchanged"]
    reasons: list[PushReason]
    evaluation_id: int | None
    execution_id: int | None
    actor: str
    created_at: datetime


@router.post(
    "/{name}/pushes",
    operation_id="pushModel",
    status_code=201,
    response_model=ModelPushOut,
    responses={200: {"model": ModelPushOut, "description": "The alias already held that version"}},
)
def push(
    name: ModelPath, body: ModelPushIn, db: DB, who: Caller, response: Response
) -> ModelPushOut:
    """Move an alias (default `production`) to a version — refused with 409 and the reasons
    unless the version is blessed against the current incumbent and every dataset it was
    trained on passed its data gate. `rollback: true` returns the alias to the version before
    the last push. Every attempt is in the push log."""
    if body.rollback:
        entry = pushes.rollback(db, who, name, body.to)
    else:
        assert body.version is not None
        entry = pushes.push(db, who, name, body.version, body.to)
    if entry.outcome == "unchanged":
        response.status_code = 200
    return ModelPushOut.of(entry)


@router.get("/{name}/pushes", operation_id="listModelPushes", response_model=PageOut[ModelPushOut])
def list_pushes(
    name: ModelPath,
    db: DB,
    who: Caller,
    alias: Annotated[AliasName | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> PageOut[ModelPushOut]:
    """The push log, newest first: pushes, rollbacks and refusals."""
    page = pushes.history(db, who, name, alias=alias, limit=limit, cursor=cursor)
    return PageOut(items=[ModelPushOut.of(p) for p in page.items], next_cursor=page.next_cursor)
