"""Limits applied before a request body is read: its size (HTTP 413) and who sends it.

Parsing 16 MiB of JSON costs the event loop real time, so a caller the server would refuse
anyway must not get that far: bodies are read only from authenticated callers.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlledger.store.errors import MlledgerError

from .auth import Authenticator
from .deps import AUTHENTICATED, caller_of
from .errors import error_body, status_of

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuthenticateFirst:
    """Pure ASGI middleware: a request that may carry a body is authenticated from its
    headers alone, and refused (401/403/400) without reading a byte of the body; the caller
    it resolves is handed on to the route, which does not look it up again."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        try:
            who = await caller_of(self.authenticator, scope)
        except MlledgerError as exc:
            headers = [(b"www-authenticate", b"Bearer")] if status_of(exc) == 401 else []
            await _reply(send, status_of(exc), exc.code, exc.message, exc.details, headers)
            return
        scope.setdefault("state", {})[AUTHENTICATED] = who
        await self.app(scope, receive, send)


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length up front and counts streamed bytes, so a
    chunked upload without a length is cut off at the limit too."""

    def __init__(self, app: ASGIApp, max_bytes: int, graphql_max_bytes: int | None = None) -> None:
        self.app = app
        self.default = max_bytes
        # A GraphQL document is small; one of megabytes is only there to make parsing slow.
        self.graphql = graphql_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.graphql if scope["path"].startswith("/graphql") else self.default
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _reply(send, 400, "bad_request", "Content-Length is not a number")
                return
            if size > limit:
                await _reply(send, 413, "payload_too_large", self._message(size, limit))
                return
        seen = 0
        exceeded = False

        async def counting_receive() -> Message:
            # Past the limit the app sees the client go away; its own answer is dropped below.
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not exceeded:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            await _reply(send, 413, "payload_too_large", self._message(seen, limit))

    def _message(self, size: int, limit: int) -> str:
        return f"request body of {size} bytes exceeds the limit of {limit} bytes"


async def _reply(
    send: Send,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps(error_body(code, message, details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
