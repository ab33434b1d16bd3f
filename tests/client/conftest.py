"""A real `mlledger serve` process for client tests, which can be stopped and started again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _support.servers import Server

from mlledger.store.database import Database


@pytest.fixture
def own_server(db: Database, database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A server this test may stop and restart."""
    s = Server(database_url, tmp_path)
    s.start()
    yield s
    s.stop()
