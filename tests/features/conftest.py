"""Feature tests: a real Feast repo per test, in the test's own project (so its own Feast
project, registry entries and Redis keys)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from _support.feature_repo import DRIVERS, apply_repo, driver_frame, write_repo

from mlledger.service.settings import Settings


@pytest.fixture
def settings(database_url: str, services: dict[str, str], tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=services["redis"],
        home=tmp_path / "home",
        features={"data_roots": [str(tmp_path)]},  # where the tests' repos and data live
    )


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def frame(now: datetime) -> pd.DataFrame:
    return driver_frame(DRIVERS, hours=6, end=now)


@pytest.fixture
def repo(tmp_path: Path, frame: pd.DataFrame) -> Path:
    return write_repo(tmp_path, frame, ttl_hours=2)


@pytest.fixture
def svc(app):  # type: ignore[no-untyped-def]
    return app.state.features.get()


@pytest.fixture
def applied(db, principal, svc, repo: Path, now: datetime):  # type: ignore[no-untyped-def]
    from mlledger.service.domain import features

    result = apply_repo(db, principal, svc, repo)
    features.materialize(
        db, principal, svc, start=now - timedelta(days=1), end=now + timedelta(seconds=1)
    )
    return result
