"""/api/v1/contexts: experiments, pipelines, pipeline runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field

from mlledger.store.metadata.contexts import NewContext

from ..deps import DB, Caller
from ..domain import contexts
from .schemas import ERRORS, ContextKind, ContextOut, Cursor, JsonObject, Name, PageOut, Strict

router = APIRouter(prefix="/contexts", tags=["contexts"], responses=ERRORS)


class ContextIn(Strict):
    kind: ContextKind
    name: Name
    properties: JsonObject = Field(default_factory=dict)


@router.post("", operation_id="createContext", status_code=201, response_model=ContextOut)
def create_context(body: ContextIn, db: DB, who: Caller) -> ContextOut:
    """409 when a context of that kind and name exists (its id is in the error details)."""
    spec = NewContext(kind=body.kind, name=body.name, properties=body.properties)
    return ContextOut.of(contexts.create(db, who, spec))


@router.get("/{context_id}", operation_id="getContext", response_model=ContextOut)
def get_context(
    context_id: Annotated[int, Path(ge=1, le=2**63 - 1)], db: DB, who: Caller
) -> ContextOut:
    return ContextOut.of(contexts.get(db, who, context_id))


@router.get("", operation_id="listContexts", response_model=PageOut[ContextOut])
def list_contexts(
    db: DB,
    who: Caller,
    kind: ContextKind | None = None,
    name: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> PageOut[ContextOut]:
    page = contexts.list_page(db, who, kind=kind, name=name, limit=limit, cursor=cursor)
    return PageOut(items=[ContextOut.of(c) for c in page.items], next_cursor=page.next_cursor)
