"""A real `mlledger serve` process for client tests, which can be stopped and started again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import Server

from mlledger.store.database import Database


@pytest.fixture(scope="session")
def server(
    db: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per database for the session (`db` has migrated it)."""
    s = Server(database_url, tmp_path_factory.mktemp("server"))
    s.start()
    yield s
    s.stop()


@pytest.fixture
def own_server(db: Database, database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A server this test may stop and restart."""
    s = Server(database_url, tmp_path)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def project() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def api(server: Server, project: str) -> Iterator[httpx.Client]:
    """Plain HTTP to read back what the client wrote."""
    with httpx.Client(
        base_url=server.url, headers={"X-Mlledger-Project": project}, timeout=30
    ) as c:
        yield c
