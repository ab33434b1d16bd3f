"""mlledger: ML metadata, lineage, experiment tracking, gates and a feature store.

`import mlledger` gives the light client (`mlledger.Client`); the server lives in
`mlledger.service` and needs the `server` extra.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_CLIENT_NAMES = {
    "ApiError",
    "Client",
    "ClientSettings",
    "LoggedArtifact",
    "LoggedModel",
    "MlledgerError",
    "Run",
    "Unavailable",
}


def __getattr__(name: str) -> Any:
    # Lazy, so server processes importing mlledger.store do not load the HTTP client.
    if name in _CLIENT_NAMES:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'mlledger' has no attribute {name!r}")
