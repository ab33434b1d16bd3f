"""mlledger: ML metadata, lineage, experiment tracking, gates and a feature store.

`import mlledger` gives the light client (`mlledger.Client`); the server lives in
`mlledger.service` and needs the `server` extra.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# The client's public names (mlledger.client.__all__), importable from `mlledger` itself.
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
    "__version__",
    "sync",
]


def __getattr__(name: str) -> Any:
    # Lazy, so server processes importing mlledger.store do not load the HTTP client.
    if name in __all__:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'mlledger' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
