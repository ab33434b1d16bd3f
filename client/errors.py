"""Errors the client raises. Misuse raises at the call; an unreachable server never does
(writes are spooled), so training code only ever sees these for its own mistakes."""

from __future__ import annotations

from typing import Any


class MlledgerError(Exception):
    """Base of every client error."""


class ApiError(MlledgerError):
    """The server refused the request (4xx): the request itself is wrong, retrying won't help."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class ServerError(ApiError):
    """The server answered, with the same error (a 5xx other than 502/503/504), every time it
    was asked: a refusal as deterministic as a 4xx, though the server's fault. A write it
    refuses so is set aside (`*.rejected`) rather than retried forever."""


class Unavailable(MlledgerError):
    """The server could not be reached (or kept failing) after every retry."""
