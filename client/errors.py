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


class InvalidArgument(ApiError):
    """400/405/406/413/415/422: the request is malformed or breaks a rule (`message` names
    which)."""


class PayloadTooLarge(InvalidArgument):
    """413: the body is over the server's limit."""


class Unauthenticated(ApiError):
    """401: no token where one is needed, or an unknown or revoked one."""


class PermissionDenied(ApiError):
    """403: the token lacks the scope, or belongs to another project."""


class NotFound(ApiError):
    """404: nothing of that id or name in this project."""


class Conflict(ApiError):
    """409: the request conflicts with what is stored now."""


class AlreadyExists(Conflict):
    """409 `already_exists`: the name is taken (`details` names the winner)."""


class FailedPrecondition(Conflict):
    """409 `failed_precondition`: not possible in the current state (a finished execution, an
    alias someone moved meanwhile, an edge that would close a cycle)."""


class GateBlocked(FailedPrecondition):
    """409 `gate_blocked`: a gate refused — a push not blessed or trained on data that failed
    its gate, or `production` of a gated model moved by hand. The reasons are in `details`."""


# The server's error codes (service/errors.py), then its statuses, to the class raised; a code
# this client does not know still raises by its status.
BY_CODE: dict[str, type[ApiError]] = {
    "invalid_argument": InvalidArgument,
    "malformed_json": InvalidArgument,
    "bad_request": InvalidArgument,
    "unsupported_media_type": InvalidArgument,
    "method_not_allowed": InvalidArgument,
    "not_acceptable": InvalidArgument,
    "payload_too_large": PayloadTooLarge,
    "unauthenticated": Unauthenticated,
    "permission_denied": PermissionDenied,
    "not_found": NotFound,
    "already_exists": AlreadyExists,
    "failed_precondition": FailedPrecondition,
    "gate_blocked": GateBlocked,
    "conflict": Conflict,
}
BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidArgument,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    405: InvalidArgument,
    406: InvalidArgument,
    409: Conflict,
    413: PayloadTooLarge,
    415: InvalidArgument,
    422: InvalidArgument,
}


def api_error(status: int, code: str, message: str, details: Any = None) -> ApiError:
    """The exception for an error answer: by its code, else by its status, else `ApiError`."""
    cls = BY_CODE.get(code) or BY_STATUS.get(status) or ApiError
    return cls(status, code, message, details)


class ServerError(ApiError):
    """The server answered, with the same error (a 5xx other than 502/503/504), every time it
    was asked: a refusal as deterministic as a 4xx, though the server's fault. A write it
    refuses so is set aside (`*.rejected`) rather than retried forever."""


class Unavailable(MlledgerError):
    """The server could not be reached (or kept failing) after every retry."""
