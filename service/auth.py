"""Bearer-token authentication, resolving every request to a Principal.

Tokens are looked up by their SHA-256 and cached briefly in-process, so the hot path (a model
server or a metric stream) costs no database round trip per request; a revoked token stops
working within `CACHE_SECONDS`.
"""

from __future__ import annotations

import re
import threading
import time

from mlledger.store.database import Database
from mlledger.store.entities import Token
from mlledger.store.errors import InvalidArgument, PermissionDenied, Unauthenticated
from mlledger.store.metadata import projects

from .domain.principal import Principal
from .settings import Settings

CACHE_SECONDS = 30.0
PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class _NeedsIO(Exception):
    """Raised inside `from_cache` when resolving would need the database."""


class Authenticator:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._anonymous = settings.anonymous_allowed
        self._default_project = settings.default_project
        self._tokens: dict[str, tuple[Token | None, float]] = {}
        self._projects: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def from_cache(self, authorization: str | None, project: str | None) -> Principal | None:
        """The caller when the caches alone can tell (no database round trip), else None —
        for latency-critical async routes, which then fall back to `authenticate` in a thread."""
        try:
            return self.authenticate(authorization, project, io=False)
        except _NeedsIO:
            return None

    def authenticate(
        self, authorization: str | None, project: str | None, *, io: bool = True
    ) -> Principal:
        """Resolve the caller.

        Raises:
            Unauthenticated: no token where one is required, or an unknown token.
            PermissionDenied: the token is bound to another project than the one asked for.
            InvalidArgument: a malformed Authorization or project header.
        """
        if project is not None and not PROJECT_NAME.match(project):
            raise InvalidArgument(
                "X-Mlledger-Project must be 1-128 letters, digits, '.', '_' or '-'",
                details={"project": project[:140]},
            )
        if authorization:
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise Unauthenticated("Authorization must be 'Bearer <token>'")
            token = self._token(secret.strip(), io)
            if token is None:
                raise Unauthenticated("the bearer token is not valid (unknown or revoked)")
            if project is not None and project != token.project_name:
                raise PermissionDenied(
                    f"this token is bound to project {token.project_name!r}, not {project!r}",
                    details={"token_project": token.project_name, "requested": project},
                )
            return Principal(
                project_id=token.project_id,
                project_name=token.project_name,
                scope=token.scope,
                actor=f"token:{token.id}:{token.name}",
            )
        if not self._anonymous:
            raise Unauthenticated(
                "this server requires a bearer token (Authorization: Bearer <token>); "
                "create one with `mlledger token create`"
            )
        project_id, name = self._project(project or self._default_project, io)
        return Principal(project_id=project_id, project_name=name, scope="admin", actor="local")

    def _token(self, secret: str, io: bool) -> Token | None:
        now = time.monotonic()
        with self._lock:
            cached = self._tokens.get(secret)
        if cached is not None and cached[1] > now:
            return cached[0]
        if not io:
            raise _NeedsIO
        with self._db.read() as session:
            token = projects.find_token(session, secret)
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[secret] = (token, now + CACHE_SECONDS)
        return token

    def _project(self, name: str, io: bool) -> tuple[int, str]:
        with self._lock:
            found = self._projects.get(name)
        if found is None:
            if not io:
                raise _NeedsIO
            with self._db.write() as session:
                project = projects.get_or_create_project(session, name)
            found = (project.id, project.name)
            with self._lock:
                self._projects[name] = found
        return found
