"""The one error hierarchy of mlledger's domain.

Raised by the store and the domain layer, mapped to HTTP status codes in exactly one table
(`mlledger.service.errors`) and to GraphQL errors by one extension. Nothing here imports a web
framework, so workers and the CLI raise and catch the same types.

    MlledgerError
    ├── InvalidArgument      the request itself is wrong (400)
    │   └── PayloadTooLarge  a body over the configured limit (413)
    ├── NotFound             no such object in the caller's project (404)
    ├── AlreadyExists        a unique name is taken (409)
    ├── FailedPrecondition   the object's state forbids the change (409)
    │   └── GateBlocked      a gate refused (409)
    ├── Unauthenticated      no or unknown credentials (401)
    └── PermissionDenied     credentials lack the scope (403)
"""

from __future__ import annotations

from typing import Any


class MlledgerError(Exception):
    """Base of every domain error; `code` is the stable machine-readable name."""

    code = "internal"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidArgument(MlledgerError):
    code = "invalid_argument"


class PayloadTooLarge(InvalidArgument):
    code = "payload_too_large"


class NotFound(MlledgerError):
    code = "not_found"


class AlreadyExists(MlledgerError):
    code = "already_exists"


class FailedPrecondition(MlledgerError):
    code = "failed_precondition"


class GateBlocked(FailedPrecondition):
    code = "gate_blocked"


class Unavailable(MlledgerError):
    """A service the request needs (Redis, a source's storage) does not answer: try again."""

    code = "unavailable"


class Unauthenticated(MlledgerError):
    code = "unauthenticated"


class PermissionDenied(MlledgerError):
    code = "permission_denied"
