"""FastAPI dependencies as `Annotated` aliases; everything comes from the app's state, which
`create_app` builds once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from mlledger.store.database import Database

from .auth import Authenticator
from .domain.principal import Principal
from .settings import Settings


# Async because they never block: a sync dependency costs a thread-pool hop per request.
async def _db(request: Request) -> Database:
    return request.app.state.db


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _principal(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_mlledger_project: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.authenticate(authorization, x_mlledger_project)


DB = Annotated[Database, Depends(_db)]
AppSettings = Annotated[Settings, Depends(_settings)]
Caller = Annotated[Principal, Depends(_principal)]
