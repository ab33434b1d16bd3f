from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mlledger.store.database import Database
from tests._support.servers import Server

PROJECT = "mlmd-tests"


@pytest.fixture(scope="session")
def mlmd_server(
    db: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`mlledger serve --grpc-port`, bound to one project, per database."""
    s = Server(
        database_url,
        tmp_path_factory.mktemp("mlmd"),
        {"MLLEDGER_MLMD__PROJECT": PROJECT},
        grpc=True,
    )
    s.start()
    yield s
    s.stop()


@pytest.fixture
def mlmd_api(mlmd_server: Server) -> Iterator[httpx.Client]:
    """REST in the project the gRPC listener writes to."""
    with httpx.Client(
        base_url=f"{mlmd_server.url}/api/v1", headers={"X-Mlledger-Project": PROJECT}, timeout=60
    ) as c:
        yield c
