"""Bad input gets a clear 4xx naming the problem — never a 500, never a silent drop."""

from __future__ import annotations

import pytest
from _support.helpers import LocalClient
from fastapi.testclient import TestClient

from mlledger.service.app import create_app
from mlledger.service.settings import ServerSettings


def error(r) -> dict:  # type: ignore[no-untyped-def]
    body = r.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def test_malformed_json_is_400(client: TestClient):
    r = client.post(
        "/api/v1/artifacts",
        content=b'{"kind": "dataset", "name": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and error(r)["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"kind": "dataset"}, "name"),
        ({"kind": "dataset", "name": 5}, "name"),
        ({"kind": "table", "name": "x"}, "kind"),
        ({"kind": "dataset", "name": ""}, "name"),
        ({"kind": "dataset", "name": "x" * 257}, "name"),
        ({"kind": "dataset", "name": "tab\tname"}, "name"),
        ({"kind": "dataset", "name": "x", "properties": [1, 2]}, "properties"),
        ({"kind": "dataset", "name": "x", "colour": "red"}, "colour"),
        ({"kind": "dataset", "name": "x", "state": "deleted"}, "state"),
        ({"kind": "dataset", "name": "x", "fingerprint": "has space"}, "fingerprint"),
        (["not", "an", "object"], "request"),
    ],
)
def test_wrong_shapes_are_422_naming_the_field(client: TestClient, body, where):
    r = client.post("/api/v1/artifacts", json=body)
    assert r.status_code == 422
    e = error(r)
    assert e["code"] == "invalid_argument" and e["message"].startswith(where)


@pytest.mark.parametrize(
    "ref",
    [
        {},
        {"artifact_id": 1, "ref": "x"},
        {"artifact_id": "1"},
        {"artifact_id": 0},
        {"artifact_id": 2**63},
        {"artifact_id": True},
        {"ref": "x", "label": "y"},
    ],
)
def test_bad_artifact_references(client: TestClient, ref):
    r = client.post("/api/v1/executions", json={"kind": "run", "name": "r", "inputs": [ref]})
    assert r.status_code in (400, 422), r.text
    error(r)


def test_unknown_ids_are_404(client: TestClient):
    for path in (
        "/api/v1/artifacts/424242",
        "/api/v1/executions/424242",
        "/api/v1/contexts/424242",
    ):
        r = client.get(path)
        assert r.status_code == 404 and error(r)["code"] == "not_found"
    r = client.patch("/api/v1/executions/424242", json={"state": "failed"})
    assert r.status_code == 404
    r = client.post(
        "/api/v1/executions", json={"kind": "run", "name": "r", "contexts": [{"id": 424242}]}
    )
    assert r.status_code == 404 and error(r)["details"] == {"context_ids": [424242]}
    assert client.get("/api/v1/nowhere").status_code == 404
    assert client.get("/api/v1/artifacts/abc").status_code == 422
    assert client.get("/api/v1/artifacts/99999999999999999999999").status_code == 422


def test_bad_query_parameters(client: TestClient):
    assert client.get("/api/v1/artifacts", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/artifacts", params={"limit": 100000}).status_code == 422
    for cursor in ("not-a-cursor", "-1", "²", "٣", "1" * 20):
        r = client.get("/api/v1/artifacts", params={"cursor": cursor})
        assert r.status_code == 422 and error(r)["message"].startswith("query.cursor"), cursor
    # Any decimal position is a page (the OpenAPI says so), past every id too.
    for cursor in ("0", "9" * 19):
        assert client.get("/api/v1/artifacts", params={"cursor": cursor}).status_code == 200
    r = client.delete("/api/v1/artifacts")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"


def test_oversize_bodies_are_413(settings, db, project_name):
    settings.server = ServerSettings(max_request_bytes=2048)
    big = {"kind": "dataset", "name": "x", "properties": {"blob": "y" * 4096}}
    with LocalClient(
        create_app(settings, db=db), headers={"X-Mlledger-Project": project_name}
    ) as small:
        r = small.post("/api/v1/artifacts", json=big)
        assert r.status_code == 413 and error(r)["code"] == "payload_too_large"

        def chunks():  # no Content-Length: the limit is enforced while streaming
            for _ in range(8):
                yield b" " * 512

        r = small.post(
            "/api/v1/artifacts", content=chunks(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
        assert (
            small.post("/api/v1/artifacts", json={"kind": "dataset", "name": "ok"}).status_code
            == 201
        )


def test_injection_looking_strings_are_data(client: TestClient):
    nasty = "x'); DROP TABLE artifact; -- \" OR 1=1 <script>alert(1)</script> ${{7*7}} ../../etc"
    r = client.post(
        "/api/v1/artifacts",
        json={"kind": "dataset", "name": nasty, "uri": nasty, "properties": {nasty: nasty}},
    )
    assert r.status_code == 201
    got = client.get("/api/v1/artifacts", params={"name": nasty}).json()["items"]
    assert [(a["name"], a["uri"], a["properties"]) for a in got] == [(nasty, nasty, {nasty: nasty})]
    assert client.get("/api/v1/artifacts", params={"name": "' OR '1'='1"}).json()["items"] == []
    r = client.get("/api/v1/lineage/artifact/1 OR 1=1")
    assert r.status_code in (404, 422)


def test_unicode_names_are_fine(client: TestClient):
    r = client.post("/api/v1/artifacts", json={"kind": "dataset", "name": "données-训练-📦"})
    assert r.status_code == 201 and r.json()["name"] == "données-训练-📦"


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity"])
@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/artifacts", b'{"kind":"dataset","name":"n","properties":{"m":{"x":[1,%s]}}}'),
        ("/api/v1/executions", b'{"kind":"run","name":"n","params":{"lr":%s}}'),
        ("/api/v1/contexts", b'{"kind":"experiment","name":"n","properties":{"x":%s}}'),
    ],
)
def test_non_finite_numbers_are_refused_not_lost(client: TestClient, path, template, token):
    """Python's JSON parser accepts NaN/Infinity; Postgres refuses them and SQLite would store
    null. Either way the caller must hear about it."""
    r = client.post(path, content=template % token, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "NaN and Infinity are not valid JSON" in error(r)["message"]
