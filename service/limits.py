"""Limits applied before a request body is read: its size (HTTP 413) and who sends it.

Parsing 16 MiB of JSON costs the event loop real time, so a caller the server would refuse
anyway must not get that far: bodies are read only from authenticated callers.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlledger.store.errors import MlledgerError

from .auth import Authenticator
from .deps import AUTHENTICATED, caller_of
from .errors import error_body, status_of
from .mlflow import errors as mlflow_errors
from .uploads import is_upload_path

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuthenticateFirst:
    """Pure ASGI middleware: a request that may carry a body is authenticated from its
    headers alone, and refused (401/403/400) without reading a byte of the body; the caller
    it resolves is handed on to the route, which does not look it up again."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator, routes: list[Any]) -> None:
        self.app = app
        self.authenticator = authenticator
        self.routes = routes  # the app's routing table: an unknown route or method is 404/405

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _WITH_BODY
            or not any(route.matches(scope)[0] == Match.FULL for route in self.routes)
        ):
            await self.app(scope, receive, send)
            return
        try:
            who = await caller_of(self.authenticator, scope)
        except MlledgerError as exc:
            # `Connection: close`: the unread body is not drained to reach a next request on
            # this connection (draining 16 MiB costs the event loop what parsing would).
            headers = [(b"connection", b"close")]
            if status_of(exc) == 401:
                headers.append((b"www-authenticate", b"Bearer"))
            await reply(scope, send, status_of(exc), exc.code, exc.message, exc.details, headers)
            return
        scope.setdefault("state", {})[AUTHENTICATED] = who
        await self.app(scope, receive, send)


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length up front and counts streamed bytes, so a
    chunked upload without a length is cut off at the limit too."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        graphql_max_bytes: int | None = None,
        upload_max_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.default = max_bytes
        # A GraphQL document is small; one of megabytes is only there to make parsing slow.
        self.graphql = graphql_max_bytes or max_bytes
        # An artifact upload is a file streamed to disk, never parsed: its own limit.
        self.upload = upload_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if is_upload_path(path):
            limit = self.upload
        else:
            limit = self.graphql if path.startswith("/graphql") else self.default
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await reply(scope, send, 400, "bad_request", "Content-Length is not a number")
                return
            if size > limit:
                await reply(
                    scope,
                    send,
                    413,
                    "payload_too_large",
                    self._message(size, limit),
                    headers=[(b"connection", b"close")],
                )
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
            await reply(scope, send, 413, "payload_too_large", self._message(seen, limit))

    def _message(self, size: int, limit: int) -> str:
        return f"request body of {size} bytes exceeds the limit of {limit} bytes"


async def reply(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """The refusal in the shape of the transport the path belongs to."""
    if mlflow_errors.is_mlflow_path(scope.get("path", "")):
        shaped = mlflow_errors.body(mlflow_errors.code_for_status(status), message, details)
    else:
        shaped = error_body(code, message, details)
    body = json.dumps(shaped).encode()
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


# A JSON escape of U+0000 that is not itself escaped (`\\u0000` is a backslash and text).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _nul_location(value: Any, path: list[str]) -> list[str] | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return [*path, key.replace("\x00", "\\u0000"), "[key]"]
            found = _nul_location(item, [*path, key])
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_location(item, [*path, str(i)])
            if found is not None:
                return found
    return None


class RefuseNul:
    """Pure ASGI middleware: text with a NUL character (U+0000) is refused wherever it comes
    (path, query string, JSON body) with a 422 naming where. Postgres cannot store NUL in text
    or JSON while SQLite would, so accepting it anywhere would give the two databases different
    answers (and Postgres a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (
            "\x00" in scope["path"]
            or b"%00" in scope["query_string"]
            or (b"\x00" in scope["query_string"])
        ):
            where = "path" if "\x00" in scope["path"] else "query"
            await _nul(scope, send, [where])
            return
        kind = dict(scope.get("headers") or []).get(b"content-type", b"")
        if (
            scope["method"] not in _WITH_BODY
            or b"json" not in kind.lower()
            or is_upload_path(scope["path"])  # a file's bytes, not a request
        ):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if b"\\u0000" in body and _NUL_ESCAPE.search(body):
            try:
                location = _nul_location(orjson.loads(body), ["body"]) or ["body"]
            except orjson.JSONDecodeError:
                location = ["body"]  # malformed anyway; the NUL is the first problem named
            await _nul(scope, send, location)
            return
        replay = iter(messages)

        async def replayed() -> Message:
            message = next(replay, None)
            return message if message is not None else await receive()

        await self.app(scope, replayed, send)


async def _nul(scope: Scope, send: Send, location: list[str]) -> None:
    where = ".".join(x for x in location if x != "body") or location[0]
    await reply(
        scope,
        send,
        422,
        "invalid_argument",
        f"{where}: text may not contain NUL (U+0000) characters",
        [{"location": location, "message": "NUL character", "type": "nul_character"}],
    )
