"""The operator's path, as real processes: db upgrade, token create, serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from servers import free_port

MLLEDGER = [sys.executable, "-m", "mlledger.client"]


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
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
    """The server's URL, and a list that holds its output once it has stopped."""
    port = free_port()
    output: list[str] = []
    proc = subprocess.Popen(
        [*MLLEDGER, "serve", "--port", str(port), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stdout.read()) from None  # type: ignore[union-attr]
                time.sleep(0.2)
        else:
            raise AssertionError("server did not start")
        yield url, output
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        output.append(out)
        print(out)


def test_the_embedded_default_starts_in_an_empty_folder(tmp_path: Path):
    """Zero configuration, zero steps: the SQLite database is made at the head on first serve
    (and the relative home resolved once, so nothing is created twice)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
    with serving(cwd=tmp_path, env=env) as (url, output):
        assert httpx.get(f"{url}/api/v1/artifacts").status_code == 200
    assert "created" in output[0] and "at revision" in output[0]
    assert (tmp_path / ".mlledger" / "mlledger.db").exists()
    assert not (tmp_path / ".mlledger" / ".mlledger").exists()


def test_serve_refuses_an_unmigrated_postgres(tmp_path: Path, services):
    """Postgres is never migrated implicitly: an empty database is refused with the fix."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    database_url = services["postgres"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
    name = f"unmigrated_{os.getpid()}"
    admin = create_engine(
        make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    empty = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    refused = cli(
        "serve",
        "--port",
        str(free_port()),
        cwd=tmp_path,
        env={**env, "MLLEDGER_DATABASE_URL": empty},
    )
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
