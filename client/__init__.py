"""The light client: `mlledger.Client` for training code, and the `mlledger` CLI.

Imports nothing of the server: `pip install mlledger` brings httpx, pydantic and click only.
"""

from .client import Client, ClientSettings, sync
from .errors import ApiError, MlledgerError, Unavailable
from .run import LoggedArtifact, LoggedModel, Run

__all__ = [
    "ApiError",
    "Client",
    "ClientSettings",
    "LoggedArtifact",
    "LoggedModel",
    "MlledgerError",
    "Run",
    "Unavailable",
    "sync",
]
