"""The operator's path, as real processes: db upgrade, token create, serve."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from _support.servers import clean_env, free_port

MLLEDGER = [sys.executable, "-m", "mlledger.client"]


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    clean = clean_env()
    if database_url.startswith("postgresql"):
        clean["MLLEDGER_DATABASE_URL"] = database_url
    # SQLite: the embedded default, ./.mlledger under the working directory.
    return clean


def cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MLLEDGER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@contextmanager
def serving(*args: str, cwd: Path, env: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """The server's URL once it says it answers, and a list that holds its output once it has
    stopped. The readiness signal is the server's own "serving at" line, printed only when
    /api/v1/health answers: no polling, so the first request must succeed."""
    port = free_port()
    lines: list[str] = []
    said = threading.Event()
    proc = subprocess.Popen(
        [*MLLEDGER, "serve", "--port", str(port), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("mlledger serving at"):
                said.set()
        said.set()  # it exited

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    output: list[str] = []
    try:
        assert said.wait(120) and proc.poll() is None, "".join(lines)
        assert f"mlledger serving at {url} " in "".join(lines)
        assert httpx.get(f"{url}/api/v1/health", timeout=10).status_code == 200
        yield url, output
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=30)
        output.append("".join(lines))
        print(output[0])


def test_the_embedded_default_starts_in_an_empty_folder(tmp_path: Path):
    """Zero configuration, zero steps: the SQLite database is made at the head on first serve
    (and the relative home resolved once, so nothing is created twice)."""
    env = clean_env()
    with serving(cwd=tmp_path, env=env) as (url, output):
        assert httpx.get(f"{url}/api/v1/artifacts").status_code == 200
        # Feast and the GraphQL schema load in the background; the API did not wait for them.
        deadline = time.monotonic() + 120
        while (state := httpx.get(f"{url}/api/v1/health").json()["features"]) != "ready":
            assert state == "loading" and time.monotonic() < deadline, state
            time.sleep(0.1)
        assert httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}).json() == {
            "data": {"__typename": "Query"}
        }
    assert "created" in output[0] and "at revision" in output[0]
    assert (tmp_path / ".mlledger" / "mlledger.db").exists()
    assert not (tmp_path / ".mlledger" / ".mlledger").exists()


def test_serve_refuses_an_unmigrated_postgres(tmp_path: Path, services):
    """Postgres is never migrated implicitly: an empty database is refused with the fix."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    database_url = services["postgres"]
    env = clean_env()
    name = f"unmigrated_{os.getpid()}"
    admin = create_engine(
        make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    empty = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        refused = cli(
            "serve",
            "--port",
            str(free_port()),
            cwd=tmp_path,
            env={**env, "MLLEDGER_DATABASE_URL": empty},
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert refused.returncode != 0 and "mlledger db upgrade" in refused.stderr


def test_serve_after_an_upgrade(tmp_path: Path, env, database_url):
    upgraded = cli("db", "upgrade", cwd=tmp_path, env=env)
    assert upgraded.returncode == 0 and "database at revision" in upgraded.stdout
    with serving(cwd=tmp_path, env=env) as (url, output):
        r = httpx.post(
            f"{url}/api/v1/artifacts",
            json={"kind": "dataset", "name": "d"},
            headers={"X-Mlledger-Project": f"cli-{os.getpid()}"},
        )
        assert r.status_code == 201
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "mlledger"
    assert '"POST /api/v1/artifacts HTTP/1.1" 201' in output[0]  # the access log, on by default
    if database_url.startswith("sqlite"):
        assert (tmp_path / ".mlledger" / "mlledger.db").exists()


def test_tokens_from_the_cli_against_a_secured_multiworker_server(tmp_path: Path, env):
    assert cli("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    made = cli("token", "create", "--project", "ci-proj", "--scope", "write", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("mll_")
    bad = cli("token", "create", "--project", "bad name", cwd=tmp_path, env=env)
    assert bad.returncode == 2
    with serving(
        "--workers",
        "2",
        "--no-access-log",
        cwd=tmp_path,
        env={**env, "MLLEDGER_AUTH": "required"},
    ) as (url, output):
        body = {"kind": "dataset", "name": "d"}
        assert httpx.post(f"{url}/api/v1/artifacts", json=body).status_code == 401
        r = httpx.post(
            f"{url}/api/v1/artifacts", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 201
    assert "POST /api/v1/artifacts" not in output[0]


def test_cli_help_lists_server_commands(tmp_path: Path, env):
    out = cli("--help", cwd=tmp_path, env=env)
    assert out.returncode == 0
    for command in ("serve", "db", "token"):
        assert command in out.stdout
