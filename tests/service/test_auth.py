"""Tokens: hashed, scoped, bound to a project; secure default off loopback."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mlledger.service.app import create_app
from mlledger.service.domain import tokens
from mlledger.service.settings import ServerSettings
from mlledger.store.models import TokenRow


@pytest.fixture
def secured(settings, db):  # type: ignore[no-untyped-def]
    settings.auth = "required"
    with TestClient(create_app(settings, db=db)) as c:
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
    with TestClient(create_app(settings, db=db)) as c:
        assert c.get("/api/v1/artifacts").status_code == 401
    settings.server = ServerSettings(host="::1")
    assert settings.anonymous_allowed is True


def test_bad_project_header(client: TestClient):
    r = client.get("/api/v1/artifacts", headers={"X-Mlledger-Project": "no spaces/allowed"})
    assert r.status_code == 400
