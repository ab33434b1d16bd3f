"""Bearer-token authentication, resolving every request to a Principal.

Tokens are looked up by their SHA-256 and cached briefly in-process, so the hot path (a model
server or a metric stream) costs no database round trip per request; a revoked token stops
working within `CACHE_SECONDS`.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from mlledger.store.database import Database
from mlledger.store.entities import Token
from mlledger.store.errors import InvalidArgument, PermissionDenied, Unauthenticated
from mlledger.store.metadata import projects

from .domain.principal import LOCAL, Principal
from .settings import Settings

CACHE_SECONDS = 30.0
PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _loopback_address(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _loopback_name(host_header: str) -> bool:
    """`localhost`, `*.localhost`, a loopback address, each with an optional port: the names
    a page on this machine uses. Anything else may be a DNS-rebinding page that resolved its
    own name to 127.0.0.1, and must not get the anonymous developer's powers."""
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8080
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host == "localhost" or host.endswith(".localhost") or _loopback_address(host)


def connection_is_local(scope: Mapping[str, Any]) -> bool:
    """Whether an ASGI request came over a loopback connection (both ends loopback: so from
    this machine, to a socket reachable only from it) and names a loopback host.

    Decided from the connection, not from the configured host: a server someone started with
    `uvicorn --host 0.0.0.0` still serves anonymous requests only to this machine."""
    client, server = scope.get("client"), scope.get("server")
    if not client or not server:
        return False  # a Unix socket may sit behind a proxy for anyone: no anonymous access
    if not (_loopback_address(client[0]) and _loopback_address(server[0])):
        return False
    for name, value in scope.get("headers") or ():
        if name == b"host":
            return _loopback_name(value.decode("latin-1"))
    return True  # HTTP/1.0 without Host: no browser sends that


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

    def from_cache(
        self, authorization: str | None, project: str | None, *, local: bool = False
    ) -> Principal | None:
        """The caller when the caches alone can tell (no database round trip), else None —
        for latency-critical async routes, which then fall back to `authenticate` in a thread."""
        try:
            return self.authenticate(authorization, project, local=local, io=False)
        except _NeedsIO:
            return None

    def authenticate(
        self,
        authorization: str | None,
        project: str | None,
        *,
        local: bool = False,
        io: bool = True,
    ) -> Principal:
        """Resolve the caller; `local`: the request came over loopback to a loopback host
        name (`connection_is_local`), the one case where no token is needed (in `auto` mode
        on a loopback-bound server).

        Raises:
            Unauthenticated: no token where one is required, an empty or malformed
                Authorization header, or an unknown token.
            PermissionDenied: the token is bound to another project than the one asked for.
            InvalidArgument: a malformed project header (checked after the credentials, so an
                unauthenticated caller learns nothing from it).
        """
        if authorization is not None:  # present, even empty: a token must be there
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise Unauthenticated("Authorization must be 'Bearer <token>'")
            token = self._token(secret.strip(), io)
            if token is None:
                raise Unauthenticated("the bearer token is not valid (unknown or revoked)")
            _check_project(project)
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
        if not local:
            raise Unauthenticated(
                "anonymous requests are served only over loopback to a loopback host name "
                "(localhost, 127.0.0.1, [::1]); send a bearer token (Authorization: Bearer "
                "<token>, from `mlledger token create`)"
            )
        _check_project(project)
        project_id, name = self._project(project or self._default_project, io)
        return Principal(project_id=project_id, project_name=name, scope="admin", actor=LOCAL)

    def _token(self, secret: str, io: bool) -> Token | None:
        if len(secret) > 200 or not secret.isascii():
            return None  # no token looks like that: not worth a lookup
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


def _check_project(project: str | None) -> None:
    if project is not None and not PROJECT_NAME.match(project):
        raise InvalidArgument(
            "X-Mlledger-Project must be 1-128 letters, digits, '.', '_' or '-'",
            details={"project": project[:140]},
        )
