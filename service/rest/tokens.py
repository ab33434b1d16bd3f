"""/api/v1/tokens: admins mint tokens for their own project."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from ..deps import DB, Caller
from ..domain import tokens
from .schemas import ERRORS, ShortText, Strict

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=ERRORS)


class TokenIn(Strict):
    name: ShortText
    scope: Literal["read", "write", "admin", "worker"]


class TokenOut(BaseModel):
    id: int
    name: str
    scope: str
    project: str
    prefix: str
    created_at: datetime
    token: str


@router.post("", operation_id="createToken", status_code=201, response_model=TokenOut)
def create_token(body: TokenIn, db: DB, who: Caller) -> TokenOut:
    """The secret is in this response only; it is stored hashed."""
    secret, token = tokens.create(db, who, name=body.name, scope=body.scope)
    return TokenOut(
        id=token.id,
        name=token.name,
        scope=token.scope,
        project=token.project_name,
        prefix=token.prefix,
        created_at=token.created_at,
        token=secret,
    )
