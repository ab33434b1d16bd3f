"""A real `mlledger serve` process for client tests, which can be stopped and started again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import Server

from mlledger.store.database import Database


@pytest.fixture
def own_server(db: Database, database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A server this test may stop and restart."""
    s = Server(database_url, tmp_path)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def api(server: Server, project: str) -> Iterator[httpx.Client]:
    """Plain HTTP to read back what the client wrote."""
    with httpx.Client(
        base_url=server.url, headers={"X-Mlledger-Project": project}, timeout=30
    ) as c:
        yield c
