"""Tokens: hashed, scoped, bound to a project; secure default off loopback."""

from __future__ import annotations

import pytest
from _support.helpers import LocalClient
from _support.servers import clean_env
from fastapi.testclient import TestClient
from sqlalchemy import select

from mlledger.service.app import create_app
from mlledger.service.domain import tokens
from mlledger.service.settings import ServerSettings
from mlledger.store.tables import TokenRow


@pytest.fixture
def secured(settings, db):  # type: ignore[no-untyped-def]
    settings.auth = "required"
    with LocalClient(create_app(settings, db=db)) as c:
        yield c


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def mint(db, project: str, scope: str) -> str:  # type: ignore[no-untyped-def]
    return tokens.create_for_project(db, project, name="t", scope=scope, actor="test")[0]


def test_tokens_are_stored_hashed(db, project_name):
    secret = mint(db, project_name, "read")
    with db.read() as session:
        stored = session.scalars(select(TokenRow.token_hash)).all()
    assert secret not in stored and all(len(h) == 64 for h in stored)


def test_required_mode_needs_a_valid_token(secured: TestClient, db, project_name):
    r = secured.get("/api/v1/artifacts")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthenticated"
    assert secured.get("/api/v1/artifacts", headers=bearer("mll_nope")).status_code == 401
    assert secured.get("/api/v1/artifacts", headers={"Authorization": "Basic x"}).status_code == 401
    assert (
        secured.post("/graphql", json={"query": "{ artifacts { nodes { id } } }"}).status_code
        == 401
    )
    assert secured.get("/api/v1/health").status_code == 200  # probes need no token


def test_scopes(secured: TestClient, db, project_name):
    read, write, admin = (mint(db, project_name, s) for s in ("read", "write", "admin"))
    body = {"kind": "dataset", "name": "d"}
    r = secured.post("/api/v1/artifacts", json=body, headers=bearer(read))
    assert r.status_code == 403 and r.json()["error"]["details"] == {
        "have": "read",
        "need": "write",
    }
    made = secured.post("/api/v1/artifacts", json=body, headers=bearer(write))
    assert made.status_code == 201
    assert (
        secured.get(f"/api/v1/artifacts/{made.json()['id']}", headers=bearer(read)).status_code
        == 200
    )
    r = secured.post("/api/v1/tokens", json={"name": "ci", "scope": "read"}, headers=bearer(write))
    assert r.status_code == 403
    r = secured.post("/api/v1/tokens", json={"name": "ci", "scope": "read"}, headers=bearer(admin))
    assert r.status_code == 201 and r.json()["project"] == project_name
    fresh = r.json()["token"]
    assert secured.get("/api/v1/artifacts", headers=bearer(fresh)).status_code == 200


def test_a_token_cannot_reach_another_project(secured: TestClient, db, project_name):
    mine, theirs = mint(db, project_name, "write"), mint(db, project_name + "-b", "write")
    made = secured.post(
        "/api/v1/artifacts", json={"kind": "dataset", "name": "secret"}, headers=bearer(mine)
    ).json()
    for path in (f"/api/v1/artifacts/{made['id']}", f"/api/v1/lineage/artifact/{made['id']}"):
        assert secured.get(path, headers=bearer(theirs)).status_code == 404
    listed = secured.get("/api/v1/artifacts", headers=bearer(theirs)).json()["items"]
    assert listed == []
    r = secured.post(
        "/api/v1/executions",
        headers=bearer(theirs),
        json={"kind": "run", "name": "steal", "inputs": [{"artifact_id": made["id"]}]},
    )
    assert r.status_code == 404
    r = secured.get(
        "/api/v1/artifacts", headers={**bearer(mine), "X-Mlledger-Project": project_name + "-b"}
    )
    assert r.status_code == 403
    q = {"query": f"{{ artifact(id: {made['id']}) {{ name }} }}"}
    assert secured.post("/graphql", json=q, headers=bearer(theirs)).json()["data"] == {
        "artifact": None
    }


def test_binding_beyond_loopback_requires_tokens(settings, db):
    settings.server = ServerSettings(host="0.0.0.0")
    assert settings.anonymous_allowed is False
    with LocalClient(create_app(settings, db=db)) as c:
        assert c.get("/api/v1/artifacts").status_code == 401
    settings.server = ServerSettings(host="::1")
    assert settings.anonymous_allowed is True


def test_bad_project_header(client: TestClient):
    r = client.get("/api/v1/artifacts", headers={"X-Mlledger-Project": "no spaces/allowed"})
    assert r.status_code == 400


def test_an_empty_authorization_header_is_401_not_anonymous(client: TestClient):
    for value in ("", " ", "Bearer", "Bearer   "):
        r = client.get("/api/v1/artifacts", headers={"Authorization": value})
        assert r.status_code == 401, value
    assert client.get("/api/v1/artifacts").status_code == 200  # no header at all: local dev


@pytest.mark.parametrize(
    ("peer", "host", "allowed"),
    [
        (("127.0.0.1", 5), "127.0.0.1:8080", True),
        (("127.0.0.1", 5), "localhost:8080", True),
        (("127.0.0.1", 5), "ui.localhost", True),
        (("::1", 5), "[::1]:8080", True),
        (("10.1.2.3", 5), "127.0.0.1:8080", False),  # from another machine
        (("127.0.0.1", 5), "rebind.attacker.example:8080", False),  # DNS rebinding
        (("127.0.0.1", 5), "127.0.0.1.attacker.example", False),
        (("127.0.0.1", 5), "localhost.attacker.example", False),
    ],
)
def test_anonymous_access_is_decided_by_the_connection(app, project_name, peer, host, allowed):
    with TestClient(app, base_url="http://127.0.0.1:8080", client=peer) as c:
        r = c.get("/api/v1/artifacts", headers={"Host": host, "X-Mlledger-Project": project_name})
        assert (r.status_code == 200) is allowed, (r.status_code, r.text)
        if not allowed:
            assert r.status_code == 401 and "loopback" in r.json()["error"]["message"]
        w = c.post(
            "/api/v1/artifacts",
            json={"kind": "dataset", "name": "d"},
            headers={"Host": host, "X-Mlledger-Project": project_name},
        )
        assert (w.status_code == 201) is allowed


def test_a_server_on_all_interfaces_serves_no_anonymous_request_from_the_network(
    db, database_url, tmp_path
):
    """`uvicorn --factory ... --host 0.0.0.0` (not `mlledger serve`): the settings still say
    127.0.0.1, but a request arriving on the machine's network address gets no local admin."""
    import socket
    import subprocess
    import sys

    import httpx
    from _support.servers import free_port, wait_healthy

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent; picks the outward interface
        address = probe.getsockname()[0]
    finally:
        probe.close()
    # The project's machines reach the package registries, so they have one.
    assert not address.startswith("127."), "no network address besides loopback to test from"
    port = free_port()
    env = clean_env()
    env |= {"MLLEDGER_DATABASE_URL": database_url, "MLLEDGER_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "mlledger.service.app:create_app_from_env",
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/artifacts").status_code == 200
        remote = httpx.post(
            f"http://{address}:{port}/api/v1/artifacts", json={"kind": "dataset", "name": "x"}
        )
        assert remote.status_code == 401, remote.text
        assert httpx.get(f"http://{address}:{port}/api/v1/artifacts").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_body_is_not_read_before_the_caller_is_known(settings, db):
    """Without a valid token the answer comes from the headers alone: not a byte of a
    16 MiB body is received, so anonymous floods cost the server nothing to parse."""
    import asyncio
    import threading

    settings.auth = "required"
    app = create_app(settings, db=db)
    received: list[dict] = []
    sent: list[dict] = []

    async def receive():  # type: ignore[no-untyped-def]
        received.append({})
        return {"type": "http.request", "body": b"[" * (16 * 1024 * 1024 - 1), "more_body": False}

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    for headers in ([], [(b"authorization", b"Bearer mll_unknown")]):
        received.clear()
        sent.clear()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/artifacts",
            "raw_path": b"/api/v1/artifacts",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), *headers],
            "client": ("203.0.113.9", 5),
            "server": ("127.0.0.1", 8080),
        }
        # A thread of its own: a test before may have left this thread's event loop running.
        runner = threading.Thread(target=lambda s=scope: asyncio.run(app(s, receive, send)))
        runner.start()
        runner.join(timeout=60)
        assert sent[0]["status"] == 401 and received == []


def test_missing_credentials_come_before_a_bad_project_header(secured: TestClient):
    r = secured.get("/api/v1/artifacts", headers={"X-Mlledger-Project": "no spaces/allowed"})
    assert r.status_code == 401


def test_a_worker_token_does_only_worker_things(secured: TestClient, db, project_name):
    worker = mint(db, project_name, "worker")
    assert secured.get("/api/v1/artifacts", headers=bearer(worker)).status_code == 403
    r = secured.post(
        "/api/v1/artifacts", json={"kind": "dataset", "name": "d"}, headers=bearer(worker)
    )
    assert r.status_code == 403
    lease = secured.post(
        "/api/v1/validation/jobs/lease", json={"worker": "w"}, headers=bearer(worker)
    )
    assert lease.status_code == 204  # allowed; nothing queued
    writer = mint(db, project_name, "write")
    forged = secured.post(
        "/api/v1/validation/jobs/lease", json={"worker": "w"}, headers=bearer(writer)
    )
    assert forged.status_code == 403 and forged.json()["error"]["details"]["need"] == "worker"
