"""FastAPI dependencies as `Annotated` aliases; everything comes from the app's state, which
`create_app` builds once."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.types import Scope

from mlledger.store.database import Database

from .auth import PROJECT_NAME, Authenticator, connection_is_local
from .domain.principal import Principal
from .settings import Settings

AUTHENTICATED = "mlledger.principal"  # where AuthenticateFirst leaves the caller in scope["state"]


# Async because they never block: a sync dependency costs a thread-pool hop per request.
async def _db(request: Request) -> Database:
    return request.app.state.db


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


# Declares the scheme in OpenAPI (Swagger's "Authorize"); the header itself is parsed by the
# Authenticator, so that a malformed one is a 401 rather than silently anonymous.
_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `mlledger token create`; optional on a loopback-bound server.",
)


def _principal(
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_mlledger_project: Annotated[
        str | None,
        Header(
            description="Project of an anonymous local request (default `default`); with a "
            "token it must name the token's project.",
            # Documented, and enforced by the Authenticator after the credentials (so an
            # unauthenticated caller gets its 401 first).
            json_schema_extra={"pattern": PROJECT_NAME.pattern, "maxLength": 128},
        ),
    ] = None,
) -> Principal:
    known = request.scope.get("state", {}).get(AUTHENTICATED)
    if known is not None:  # the AuthenticateFirst middleware resolved it before the body
        return known
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.authenticate(
        authorization, x_mlledger_project, local=connection_is_local(request.scope)
    )


DB = Annotated[Database, Depends(_db)]
AppSettings = Annotated[Settings, Depends(_settings)]
Caller = Annotated[Principal, Depends(_principal)]


async def fast_caller(request: Request) -> Principal:
    """The caller, from the caches when they can tell (no thread-pool hop), else from the
    database in a thread: for latency-critical routes (the bare online route)."""
    known = request.scope.get("state", {}).get(AUTHENTICATED)
    if known is not None:
        return known
    return await caller_of(request.app.state.authenticator, request.scope)


async def caller_of(authenticator: Authenticator, scope: Scope) -> Principal:
    """The caller of an ASGI request, from the caches when they can tell, else from the
    database in a thread (the event loop never waits on a lookup)."""
    headers = Headers(scope=scope)
    authorization = headers.get("authorization")
    project = headers.get("x-mlledger-project")
    local = connection_is_local(scope)
    found = authenticator.from_cache(authorization, project, local=local)
    if found is not None:
        return found
    return await asyncio.to_thread(
        partial(authenticator.authenticate, authorization, project, local=local)
    )
