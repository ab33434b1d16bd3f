"""`POST /api/v1/features/online`: the model servers' hot path, as a plain Starlette route put
first of all routes (see `online_route`), validated, authenticated and answered in the same
shapes as every FastAPI route."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import (
    Field,
    ValidationError,
)
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from ..auth import PROJECT_NAME
from ..deps import fast_caller
from .features import EntityValue, Selection, feature_cases, service_of
from .schemas import ERRORS, ErrorOut

INLINE_ROWS = 16


class OnlineIn(Selection):
    entities: Annotated[
        dict[Annotated[str, Field(max_length=256)], list[EntityValue]], Field(min_length=1)
    ] = Field(description='Join key -> values, e.g. {"driver_id": [1001, 1002]}.')


ONLINE_PATH = "/api/v1/features/online"
_JSON_TYPES = ("application/json", "+json")


async def _online(request: Request) -> Response:
    """Latest values per entity. A value older than its view's TTL is null with status
    OUTSIDE_MAX_AGE; unknown features or entity keys are a 4xx naming them."""
    who = await fast_caller(request)  # an unknown caller learns nothing about the body first
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if not kind.endswith(_JSON_TYPES):
        raise StarletteHTTPException(415, f"the body must be JSON, not {kind[:100]}")
    try:
        body = OnlineIn.model_validate_json(await request.body())
    except ValidationError as exc:
        # FastAPI's own shape, so the one error table renders it like every other route's.
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    read = partial(
        feature_cases().get_online,
        request.app.state.db,
        who,
        service_of(request),
        features=body.features,
        feature_service=body.feature_service,
        entities=body.entities,
    )
    rows = len(next(iter(body.entities.values())))
    # A small read is one sub-millisecond Redis round trip: done on the event loop, it saves
    # the thread-pool hop that would cost as much. Larger reads go to a thread.
    result = read() if rows <= INLINE_ROWS else await asyncio.to_thread(read)
    payload = {
        "metadata": {"feature_names": result.feature_names},
        "results": [
            {"values": v, "statuses": s, "event_timestamps": t}
            for v, s, t in zip(result.values, result.statuses, result.event_timestamps, strict=True)
        ],
    }
    # orjson: thousands of values a response, encoded in C.
    return Response(orjson.dumps(payload), media_type="application/json")


def online_route() -> Route:
    """`POST /api/v1/features/online` as a plain Starlette route, for the app to put first.

    Why not a FastAPI route: this is the model servers' hot path, and FastAPI's matching through
    the app's ~60 routes plus its dependency resolution cost ~0.4 ms a request in process —
    more than the Redis read itself. The body is still validated by `OnlineIn`, the caller by the
    same Authenticator, and what is raised goes through the one error table; `document_online`
    puts the operation into the OpenAPI schema.
    """
    return Route(ONLINE_PATH, _online, methods=["POST"], include_in_schema=False)


def document_online(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the online operation, generated from `OnlineIn`, to the app's OpenAPI schema."""
    _, defs = models_json_schema(
        [(OnlineIn, "validation"), (ErrorOut, "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    schema.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
    errors = {
        str(status): {
            "description": spec["description"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for status, spec in {**ERRORS, 415: {"description": "The body is not JSON"}}.items()
    }
    schema["paths"][ONLINE_PATH] = {
        "post": {
            "tags": ["features"],
            "summary": "Get Online Features",
            "description": _online.__doc__,
            "operationId": "getOnlineFeatures",
            "parameters": [
                {
                    "name": "x-mlledger-project",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 128, "pattern": PROJECT_NAME.pattern},
                    "description": "Project of an anonymous local request (default `default`); "
                    "with a token it must name the token's project.",
                }
            ],
            "security": [{"HTTPBearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/OnlineIn"}}
                },
            },
            "responses": {
                "200": {
                    "description": "Feast's shape: metadata.feature_names, and per name the "
                    "values, statuses (PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE) and event timestamps",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **errors,
            },
        }
    }
    return schema
