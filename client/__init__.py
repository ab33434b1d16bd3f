"""The light client: `mlledger.Client` for training code, and the `mlledger` CLI.

Imports nothing of the server: `pip install mlledger` brings httpx, pydantic and click only.
The names below load on first use, so `mlledger serve` (whose entry point lives in this
package) does not import the HTTP client it never uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import (
        Client,
        ClientSettings,
        sync,
    )
    from .errors import (
        AlreadyExists,
        ApiError,
        Conflict,
        FailedPrecondition,
        GateBlocked,
        InvalidArgument,
        MlledgerError,
        NotFound,
        PayloadTooLarge,
        PermissionDenied,
        ServerError,
        Unauthenticated,
        Unavailable,
    )
    from .run import (
        LoggedArtifact,
        LoggedModel,
        Run,
    )

_WHERE = {
    "AlreadyExists": ".errors",
    "ApiError": ".errors",
    "Client": ".client",
    "ClientSettings": ".client",
    "Conflict": ".errors",
    "FailedPrecondition": ".errors",
    "GateBlocked": ".errors",
    "InvalidArgument": ".errors",
    "LoggedArtifact": ".run",
    "LoggedModel": ".run",
    "MlledgerError": ".errors",
    "NotFound": ".errors",
    "PayloadTooLarge": ".errors",
    "PermissionDenied": ".errors",
    "Run": ".run",
    "ServerError": ".errors",
    "Unauthenticated": ".errors",
    "Unavailable": ".errors",
    "sync": ".client",
}

__all__ = [
    "AlreadyExists",
    "ApiError",
    "Client",
    "ClientSettings",
    "Conflict",
    "FailedPrecondition",
    "GateBlocked",
    "InvalidArgument",
    "LoggedArtifact",
    "LoggedModel",
    "MlledgerError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "Run",
    "ServerError",
    "Unauthenticated",
    "Unavailable",
    "sync",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'mlledger.client' has no attribute {name!r}")
    return getattr(import_module(where, __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)
