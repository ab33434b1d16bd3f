"""Artifacts: versions per name, dedupe by fingerprint, listing, state."""

from __future__ import annotations

from fastapi.testclient import TestClient


def create(client: TestClient, **body: object) -> tuple[int, dict]:
    r = client.post("/api/v1/artifacts", json={"kind": "dataset", "name": "d", **body})
    return r.status_code, r.json()


def test_versions_increment_per_name(client: TestClient):
    assert [create(client, fingerprint=f"f{i}")[1]["version"] for i in range(3)] == [1, 2, 3]
    assert create(client, name="other")[1]["version"] == 1
    # No fingerprint: every log is a new version.
    assert create(client)[1]["version"] == 4


def test_same_name_and_fingerprint_returns_the_existing_version(client: TestClient):
    status, first = create(client, fingerprint="sha256:aa", uri="s3://b/k")
    assert status == 201
    status, again = create(client, fingerprint="sha256:aa", uri="s3://b/k")
    assert status == 200 and again["id"] == first["id"] and again["version"] == 1
    status, changed = create(client, fingerprint="sha256:bb")
    assert status == 201 and changed["version"] == 2
    # Back to the first content: the first version, not a third.
    assert create(client, fingerprint="sha256:aa")[1]["id"] == first["id"]


def test_a_name_keeps_its_kind(client: TestClient):
    create(client)
    status, body = create(client, kind="model")
    assert status == 409
    assert body["error"]["code"] == "already_exists"
    assert body["error"]["details"] == {
        "name": "d",
        "existing_kind": "dataset",
        "requested_kind": "model",
    }


def test_get_list_filter_and_paginate(client: TestClient):
    made = [create(client, name=f"n{i % 3}", kind="dataset")[1]["id"] for i in range(7)]
    create(client, name="m", kind="model")
    one = client.get(f"/api/v1/artifacts/{made[0]}").json()
    assert one["name"] == "n0" and one["properties"] == {}

    seen, cursor = [], None
    while True:
        params = {"kind": "dataset", "limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/artifacts", params=params).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)  # newest first, nothing skipped or repeated
    named = client.get("/api/v1/artifacts", params={"name": "n1"}).json()["items"]
    assert [a["version"] for a in named] == [2, 1]
    assert (
        client.get("/api/v1/artifacts", params={"kind": "model"}).json()["items"][0]["name"] == "m"
    )


def test_state_changes_and_properties_round_trip(client: TestClient):
    status, body = create(
        client, state="pending", properties={"rows": 10, "cols": ["a", "b"], "nested": {"x": None}}
    )
    assert status == 201 and body["state"] == "pending"
    r = client.patch(f"/api/v1/artifacts/{body['id']}", json={"state": "live"})
    assert r.status_code == 200 and r.json()["state"] == "live"
    got = client.get(f"/api/v1/artifacts/{body['id']}").json()
    assert got["properties"] == {"rows": 10, "cols": ["a", "b"], "nested": {"x": None}}
