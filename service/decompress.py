"""`Content-Encoding: gzip` request bodies (what OpenLineage's HTTP transport sends with
compression on), decompressed before anything parses them — and bounded: the decompressed body
has the same limit as a plain one, so a small bomb cannot become gigabytes of JSON."""

from __future__ import annotations

import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .limits import reply
from .uploads import is_upload_path


class DecompressBody:
    """Pure ASGI middleware, inside the size limit (which counts the compressed bytes)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if not encoding or encoding == b"identity" or is_upload_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if encoding not in (b"gzip", b"x-gzip", b"deflate"):
            await reply(
                scope, send, 415, "unsupported_media_type",
                f"Content-Encoding {encoding.decode('latin-1')!r} is not gzip or deflate",
            )  # fmt: skip
            return
        wbits = 16 + zlib.MAX_WBITS if encoding != b"deflate" else zlib.MAX_WBITS
        inflate = zlib.decompressobj(wbits)
        out = bytearray()
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    await self.app(scope, _replay([message], receive), send)
                    return
                out += inflate.decompress(message.get("body", b""), self.max_bytes + 1 - len(out))
                if len(out) > self.max_bytes or inflate.unconsumed_tail:
                    await reply(
                        scope, send, 413, "payload_too_large",
                        f"the decompressed request body exceeds the limit of {self.max_bytes} "
                        "bytes",
                    )  # fmt: skip
                    return
                if not message.get("more_body"):
                    break
            out += inflate.flush()
            if not inflate.eof:
                raise zlib.error("truncated")
        except zlib.error:
            await reply(
                scope, send, 400, "invalid_argument",
                f"the request body is not valid {encoding.decode('latin-1')} data",
            )  # fmt: skip
            return
        body = bytes(out)
        plain = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")
        ]
        plain.append((b"content-length", str(len(body)).encode()))
        scope = {**scope, "headers": plain}
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)


def _replay(messages: list[Message], then: Receive) -> Receive:
    """The messages read already, then the client's own (a later disconnect, say)."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        return await then()

    return receive
