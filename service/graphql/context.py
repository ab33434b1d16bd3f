"""The typed per-request GraphQL context."""

from __future__ import annotations

from fastapi import Request
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from mlledger.store.database import Database

from ..deps import AUTHENTICATED, caller_of
from ..domain.principal import Principal
from ..settings import Settings
from .dataloaders import Loaders


class GraphQLContext(BaseContext):
    def __init__(self, db: Database, settings: Settings, who: Principal) -> None:
        super().__init__()
        self.db = db
        self.settings = settings
        self.who = who
        self.loaders = Loaders(db, who)


Ctx = Info[GraphQLContext, None]  # what every resolver's `info` is


async def get_context(request: Request) -> GraphQLContext:
    """Authenticate like REST does; its errors become the same 401/403 bodies."""
    state = request.app.state
    who = request.scope.get("state", {}).get(AUTHENTICATED) or await caller_of(
        state.authenticator, request.scope
    )
    who.require("read")
    return GraphQLContext(state.db, state.settings, who)
