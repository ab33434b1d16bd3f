"""Fixtures: real PostgreSQL and Redis (started by scripts/services.sh), and SQLite.

Every database-backed test runs on both backends. Each backend's database is migrated once per
session with Alembic; each test then works in a project of its own, the tenant boundary, so
tests never see each other's rows and need no cleanup.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _support.helpers import LocalClient
from _support.servers import Server
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mlledger import migrations
from mlledger.service.app import create_app
from mlledger.service.domain.principal import Principal
from mlledger.service.settings import Settings
from mlledger.store.database import Database, create_db_engine
from mlledger.store.metadata import projects

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` go first: the suite runs on several workers (scripts/test), and a
    three-minute test handed out last would leave the others idle while it ends the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def services() -> dict[str, str]:
    """URLs of the real Postgres, Redis and Redis Cluster; started by the project's script if
    not given."""
    urls = {
        "postgres": os.environ.get("MLLEDGER_TEST_DATABASE_URL", ""),
        "redis": os.environ.get("MLLEDGER_TEST_REDIS_URL", ""),
        "redis_cluster": os.environ.get("MLLEDGER_TEST_REDIS_CLUSTER_URL", ""),
    }
    if not all(urls.values()):
        out = subprocess.run(
            ["bash", str(ROOT / "scripts" / "services.sh"), "start"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = dict(
            line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line
        )
        urls = {
            "postgres": found["MLLEDGER_TEST_DATABASE_URL"],
            "redis": found["MLLEDGER_TEST_REDIS_URL"],
            "redis_cluster": found["MLLEDGER_TEST_REDIS_CLUSTER_URL"],
        }
    return urls


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest,
    services: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """SQLite in a temporary folder, or a Postgres database of this session's own — created
    empty (the real migrations make the schema) and dropped at the end, so two test sessions on
    one machine (a fresh clone's CI run beside a developer's) never touch each other's tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'mlledger.db'}"
        return
    url = make_url(services["postgres"])
    name = f"{url.database}_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    engine = create_db_engine(database_url, pool_size=20)
    migrations.upgrade(engine)
    database = Database(engine)
    yield database
    database.dispose()


@pytest.fixture
def project_name() -> str:
    return f"p-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def principal(db: Database, project_name: str) -> Principal:
    """An admin of a fresh project, for calling the domain layer directly."""
    with db.write() as session:
        project = projects.get_or_create_project(session, project_name)
    return Principal(project.id, project.name, "admin", "test")


@pytest.fixture
def settings(database_url: str, services: dict[str, str]) -> Settings:
    return Settings(database_url=database_url, redis_url=services["redis"])


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, db=db)


@pytest.fixture
def client(app, project_name: str) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """An anonymous local client (the server is bound to loopback) in a fresh project."""
    with LocalClient(app, headers={"X-Mlledger-Project": project_name}) as c:
        yield c


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
def api(server: Server, project: str) -> Iterator[httpx.Client]:
    """Plain HTTP to `server`'s REST API (`/api/v1`) in the test's project."""
    with httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"X-Mlledger-Project": project}, timeout=60
    ) as c:
        yield c


@pytest.fixture
def project() -> str:
    """A fresh project name for tests that talk to `server` over HTTP."""
    return f"c-{uuid.uuid4().hex[:12]}"
