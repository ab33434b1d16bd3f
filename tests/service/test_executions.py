"""Executions with inputs, outputs and contexts in one transaction; states; batches."""

from __future__ import annotations

import pytest
from _support.helpers import ids, new, run
from fastapi.testclient import TestClient


def count(client: TestClient, path: str, **params: object) -> int:
    return len(client.get(path, params={"limit": 1000, **params}).json()["items"])


def test_execution_with_events_and_contexts(client: TestClient):
    raw = client.post("/api/v1/artifacts", json={"kind": "dataset", "name": "raw"}).json()
    body = run(
        client,
        "train",
        [{"artifact_id": raw["id"], "role": "train"}],
        [{**new("model", "m", uri="file:///m"), "role": "model"}],
        params={"lr": 0.1, "layers": [64, 32]},
        code_version="abc123+dirty",
        environment={"python": "3.11"},
        contexts=[
            {"kind": "experiment", "name": "churn"},
            {"kind": "pipeline_run", "name": "nightly-1"},
        ],
    )
    assert body["state"] == "running" and body["params"] == {"lr": 0.1, "layers": [64, 32]}
    assert [(e["role"], e["artifact"]["name"]) for e in body["inputs"]] == [("train", "raw")]
    assert [(e["role"], e["artifact"]["kind"]) for e in body["outputs"]] == [("model", "model")]
    assert sorted(c["kind"] for c in body["contexts"]) == ["experiment", "pipeline_run"]
    experiment = next(c for c in body["contexts"] if c["kind"] == "experiment")

    # The same context by name is reused, not duplicated; by id works too.
    again = run(client, "train-2", [], [], contexts=[{"kind": "experiment", "name": "churn"}])
    assert again["contexts"][0]["id"] == experiment["id"]
    third = run(client, "train-3", [], [], contexts=[{"id": experiment["id"]}])
    assert third["contexts"][0]["id"] == experiment["id"]

    in_experiment = client.get(
        "/api/v1/executions", params={"context_id": experiment["id"]}
    ).json()["items"]
    assert [e["name"] for e in in_experiment] == ["train-3", "train-2", "train"]
    attributed = client.get("/api/v1/artifacts", params={"context_id": experiment["id"]}).json()[
        "items"
    ]
    assert {a["name"] for a in attributed} == {"raw", "m"}
    got = client.get(f"/api/v1/executions/{body['id']}").json()
    assert ids(got, "outputs") == ids(body, "outputs")


def test_a_failing_write_leaves_nothing_behind(client: TestClient):
    before = (
        count(client, "/api/v1/artifacts"),
        count(client, "/api/v1/executions"),
        count(client, "/api/v1/contexts"),
    )
    r = client.post(
        "/api/v1/executions",
        json={
            "kind": "run",
            "name": "bad",
            "inputs": [new("dataset", "fresh"), {"artifact_id": 987654321}],
            "outputs": [new("model", "m")],
            "contexts": [{"kind": "experiment", "name": "never"}],
        },
    )
    assert r.status_code == 404
    assert r.json()["error"]["details"] == {"artifact_ids": [987654321]}
    after = (
        count(client, "/api/v1/artifacts"),
        count(client, "/api/v1/executions"),
        count(client, "/api/v1/contexts"),
    )
    assert after == before


def test_batch_with_references_is_all_or_nothing(client: TestClient):
    steps = [
        {"kind": "run", "name": "a", "outputs": [{**new("dataset", "x"), "label": "x"}]},
        {"kind": "run", "name": "b", "inputs": [{"ref": "x"}], "outputs": [new("model", "y")]},
    ]
    r = client.post("/api/v1/executions/batch", json={"executions": steps})
    assert r.status_code == 201
    a, b = r.json()["executions"]
    assert ids(b, "inputs") == ids(a, "outputs")
    r = client.post(
        "/api/v1/executions/batch",
        params={"view": "ids"},
        json={"executions": [{**s, "name": s["name"] + "2"} for s in steps]},
    )
    assert r.status_code == 201
    c, d = r.json()["executions"]
    assert set(c) == {"id", "inputs", "outputs"} and d["inputs"] == c["outputs"]
    assert client.get(f"/api/v1/executions/{d['id']}").json()["name"] == "b2"

    forward = [
        {"kind": "run", "name": "c", "inputs": [{"ref": "later"}]},
        {"kind": "run", "name": "d", "outputs": [{**new("dataset", "z"), "label": "later"}]},
    ]
    r = client.post("/api/v1/executions/batch", json={"executions": forward})
    assert r.status_code == 400 and "earlier execution" in r.json()["error"]["message"]
    assert count(client, "/api/v1/executions", name="d") == 0
    twice = [
        {
            "kind": "run",
            "name": "e",
            "outputs": [
                {**new("dataset", "q"), "label": "l"},
                {**new("dataset", "r"), "label": "l"},
            ],
        }
    ]
    r = client.post("/api/v1/executions/batch", json={"executions": twice})
    assert r.status_code == 400 and "used twice" in r.json()["error"]["message"]


def test_state_transitions(client: TestClient):
    body = run(client, "r", [], [])
    url = f"/api/v1/executions/{body['id']}"
    r = client.patch(url, json={"properties": {"note": "warming up"}})
    assert r.status_code == 200 and r.json()["properties"] == {"note": "warming up"}
    r = client.patch(url, json={"state": "complete"})
    assert r.status_code == 200
    done = r.json()
    assert done["state"] == "complete" and done["ended_at"] is not None
    r = client.patch(url, json={"state": "running"})
    assert r.status_code == 409 and r.json()["error"]["details"] == {
        "from": "complete",
        "to": "running",
    }
    r = client.post(f"{url}/events", json={"outputs": [new("model", "late")]})
    assert r.status_code == 409
    r = client.patch(url, json={})
    assert r.status_code == 422
    assert (
        client.get("/api/v1/executions", params={"state": "complete"}).json()["items"][0]["id"]
        == body["id"]
    )


def test_outputs_added_while_running(client: TestClient):
    body = run(client, "r", [new("dataset", "in")], [])
    r = client.post(
        f"/api/v1/executions/{body['id']}/events",
        json={"outputs": [{**new("model", "m"), "role": "model"}]},
    )
    assert r.status_code == 200
    assert [e["artifact"]["name"] for e in r.json()["outputs"]] == ["m"]
    r = client.post(f"/api/v1/executions/{body['id']}/events", json={})
    assert r.status_code == 400


def test_times_must_be_ordered(client: TestClient):
    r = client.post(
        "/api/v1/executions",
        json={
            "kind": "run",
            "name": "t",
            "started_at": "2026-01-02T00:00:00Z",
            "ended_at": "2026-01-01T00:00:00Z",
        },
    )
    assert r.status_code == 400 and "ended_at" in r.json()["error"]["message"]


def test_contexts_are_unique_by_kind_and_name(client: TestClient):
    r = client.post("/api/v1/contexts", json={"kind": "experiment", "name": "e"})
    assert r.status_code == 201
    again = client.post("/api/v1/contexts", json={"kind": "experiment", "name": "e"})
    assert again.status_code == 409
    assert again.json()["error"]["details"]["context_id"] == r.json()["id"]
    assert (
        client.post("/api/v1/contexts", json={"kind": "pipeline", "name": "e"}).status_code == 201
    )
    listed = client.get("/api/v1/contexts", params={"kind": "experiment"}).json()["items"]
    assert [c["name"] for c in listed] == ["e"]
    assert client.get(f"/api/v1/contexts/{r.json()['id']}").json()["name"] == "e"


@pytest.mark.slow
def test_large_requests_stay_within_parameter_limits(client: TestClient):
    """10,000 fingerprinted inputs, logged twice (dedupe lookups) and then referenced by id:
    more values than one SQL statement may bind on SQLite (32,766) or Postgres (65,535)."""
    inputs = [new("dataset", f"part-{i}", fingerprint=f"sha:{i}") for i in range(10_000)]
    first = run(client, "ingest", inputs, [])
    again = run(client, "ingest-again", inputs, [])
    assert ids(again, "inputs") == ids(first, "inputs")  # every one deduplicated
    by_id = run(client, "consume", [{"artifact_id": i} for i in ids(first, "inputs")], [])
    assert len(by_id["inputs"]) == 10_000
