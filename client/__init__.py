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
    from .results import (
        Alias,
        AnomalyReason,
        Artifact,
        Check,
        Dataset,
        Evaluation,
        LatestMetric,
        MetricHistory,
        ModelGate,
        ModelPush,
        ModelVerdict,
        ModelVersion,
        PushReason,
        RegisteredModel,
        RunRecord,
        TrainingDataset,
    )
    from .run import (
        LoggedArtifact,
        LoggedModel,
        Run,
    )

_WHERE = {
    "Alias": ".results",
    "AlreadyExists": ".errors",
    "AnomalyReason": ".results",
    "ApiError": ".errors",
    "Artifact": ".results",
    "Check": ".results",
    "Client": ".client",
    "ClientSettings": ".client",
    "Conflict": ".errors",
    "Dataset": ".results",
    "Evaluation": ".results",
    "FailedPrecondition": ".errors",
    "GateBlocked": ".errors",
    "InvalidArgument": ".errors",
    "LatestMetric": ".results",
    "LoggedArtifact": ".run",
    "LoggedModel": ".run",
    "MetricHistory": ".results",
    "MlledgerError": ".errors",
    "ModelGate": ".results",
    "ModelPush": ".results",
    "ModelVerdict": ".results",
    "ModelVersion": ".results",
    "NotFound": ".errors",
    "PayloadTooLarge": ".errors",
    "PermissionDenied": ".errors",
    "PushReason": ".results",
    "RegisteredModel": ".results",
    "Run": ".run",
    "RunRecord": ".results",
    "ServerError": ".errors",
    "TrainingDataset": ".results",
    "Unauthenticated": ".errors",
    "Unavailable": ".errors",
    "sync": ".client",
}

__all__ = [
    "Alias",
    "AlreadyExists",
    "AnomalyReason",
    "ApiError",
    "Artifact",
    "Check",
    "Client",
    "ClientSettings",
    "Conflict",
    "Dataset",
    "Evaluation",
    "FailedPrecondition",
    "GateBlocked",
    "InvalidArgument",
    "LatestMetric",
    "LoggedArtifact",
    "LoggedModel",
    "MetricHistory",
    "MlledgerError",
    "ModelGate",
    "ModelPush",
    "ModelVerdict",
    "ModelVersion",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "PushReason",
    "RegisteredModel",
    "Run",
    "RunRecord",
    "ServerError",
    "TrainingDataset",
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
