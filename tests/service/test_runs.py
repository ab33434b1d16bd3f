"""Runs over REST: create-or-attach, params/tags/state, metric batches, history, artifacts."""

from __future__ import annotations

import math
import uuid

from fastapi.testclient import TestClient


def start(client: TestClient, **body) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/runs", json={"experiment": "churn", **body})
    assert r.status_code in (200, 201), r.text
    return r.json()


def batch(keys, values, steps, timestamps=None):  # type: ignore[no-untyped-def]
    return {
        "keys": keys,
        "values": values,
        "steps": steps,
        "timestamps": timestamps or [1_700_000_000_000 + s for s in steps],
    }


def test_create_is_idempotent_by_uuid_and_params_are_strings(client: TestClient) -> None:
    run_uuid = str(uuid.uuid4())
    r = client.post(
        "/api/v1/runs",
        json={
            "uuid": run_uuid,
            "experiment": "churn",
            "name": "lr",
            "params": {"lr": 0.1, "deep": True, "n": 3},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["params"] == {"lr": "0.1", "deep": "True", "n": "3"}
    assert body["state"] == "running" and body["experiment"] == "churn"
    again = client.post("/api/v1/runs", json={"uuid": run_uuid, "experiment": "churn"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert client.get(f"/api/v1/runs/{body['id']}").json()["uuid"] == run_uuid
    # The run is an execution of kind run in an experiment context, in the lineage graph.
    execution = client.get(f"/api/v1/executions/{body['id']}").json()
    assert execution["kind"] == "run"
    assert [c["name"] for c in execution["contexts"]] == ["churn"]


def test_params_are_set_once_tags_merge_and_failed_is_final(client: TestClient) -> None:
    run = start(client, params={"lr": "0.1"})
    path = f"/api/v1/runs/{run['uuid']}"
    assert client.patch(path, json={"params": {"lr": "0.1", "epochs": 3}}).status_code == 200
    clash = client.patch(path, json={"params": {"lr": "0.2"}})
    assert clash.status_code == 409 and "lr" in clash.json()["error"]["message"]
    r = client.patch(path, json={"tags": {"team": "risk", "x": "1"}, "remove_tags": ["x"]})
    assert r.json()["tags"] == {"team": "risk"}
    failed = client.patch(path, json={"state": "failed"}).json()
    assert failed["state"] == "failed" and failed["ended_at"] is not None
    # Another rank finishing cleanly does not hide the failure.
    assert client.patch(path, json={"state": "complete"}).json()["state"] == "failed"


def test_metric_batches_latest_and_history(client: TestClient) -> None:
    run = start(client)
    path = f"/api/v1/runs/{run['uuid']}/metrics"
    n = 10_000
    r = client.post(
        path, json=batch(["loss"] * n, [1.0 / (i + 1) for i in range(n)], list(range(n)))
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": n, "duplicate": False}
    r = client.post(path, json=batch(["auc", "auc", "nan"], [0.5, 0.9, "NaN"], [0, 1, 0]))
    assert r.status_code == 200, r.text
    latest = {m["key"]: m for m in client.get(path).json()}
    assert latest["auc"]["value"] == 0.9 and latest["auc"]["step"] == 1
    assert latest["loss"]["step"] == n - 1
    assert latest["nan"]["value"] == "NaN"
    history = client.get(f"{path}/loss").json()
    assert history["total"] == n and not history["downsampled"]
    assert history["steps"] == list(range(n))
    assert history["values"][:2] == [1.0, 0.5]
    sampled = client.get(f"{path}/loss", params={"max_points": 100}).json()
    assert sampled["downsampled"] and len(sampled["steps"]) == 100
    assert sampled["maxs"][0] == 1.0 and sampled["steps"][0] == 0
    assert math.isclose(sampled["values"][0], sum(1.0 / (i + 1) for i in range(100)) / 100)
    window = client.get(f"{path}/loss", params={"min_step": 10, "max_step": 19}).json()
    assert window["steps"] == list(range(10, 20))


def test_idempotency_key_applies_a_batch_once(client: TestClient) -> None:
    run = start(client)
    path = f"/api/v1/runs/{run['uuid']}/metrics"
    key = str(uuid.uuid4())
    body = batch(["loss"] * 3, [1.0, 2.0, 3.0], [0, 1, 2])
    first = client.post(path, json=body, headers={"Idempotency-Key": key})
    second = client.post(path, json=body, headers={"Idempotency-Key": key})
    assert first.json() == {"accepted": 3, "duplicate": False}
    assert second.json() == {"accepted": 3, "duplicate": True}
    assert client.get(f"{path}/loss").json()["total"] == 3
    other = client.patch(f"/api/v1/runs/{run['uuid']}", json={})
    assert other.status_code == 200


def test_metric_batch_bad_input(client: TestClient) -> None:
    run = start(client)
    path = f"/api/v1/runs/{run['uuid']}/metrics"
    cases = {
        "length mismatch": batch(["a", "b"], [1.0], [0, 1]),
        "string value": batch(["a"], ["high"], [0]),
        "bool value": batch(["a"], [True], [0]),
        "bad key": batch(["a;drop"], [1.0], [0]),
        "empty": batch([], [], []),
        "float step": batch(["a"], [1.0], [0.5]),
        "negative timestamp": batch(["a"], [1.0], [0], [-1]),
        "too many": batch(["a"] * 100_001, [1.0] * 100_001, [0] * 100_001),
        "step beyond 64 bits": batch(["a"], [1.0], [2**64]),
    }
    for name, body in cases.items():
        r = client.post(path, json=body)
        assert r.status_code == 422, (name, r.text)
        assert r.json()["error"]["code"], name
    # The ingest route decodes with orjson: what it refuses is still a named 422, never a 500.
    raw = {  # body: (status, error code)
        b'{"keys":["a"],"values":[NaN],"steps":[0],"timestamps":[1]}': 400,  # not JSON
        b'{"keys":["\\ud800"],"values":[1],"steps":[0],"timestamps":[1]}': 400,
        b'{"keys":["a"],"values":[1],"steps":[1' + b"0" * 40 + b'],"timestamps":[1]}': 422,
        b"{": 400,
    }
    for content, status in raw.items():
        r = client.post(path, content=content, headers={"Content-Type": "application/json"})
        assert r.status_code == status, (content, r.text)
        code = r.json()["error"]["code"]
        assert code == ("malformed_json" if status == 400 else "invalid_argument"), r.text
    most = 100_000
    r = client.post(path, json=batch(["a"] * most, [1.0] * most, list(range(most))))
    assert r.status_code == 200 and r.json()["accepted"] == most
    missing = client.post("/api/v1/runs/no-such-run/metrics", json=batch(["a"], [1.0], [0]))
    assert missing.status_code == 404
    assert client.get(f"{path}/never-logged").json()["total"] == 0


def test_run_inputs_and_outputs_are_lineage_edges(client: TestClient) -> None:
    run = start(client)
    data = {
        "kind": "dataset",
        "name": "churn-train",
        "fingerprint": "sha256:abc",
        "uri": "file:///d",
    }
    first = client.post(f"/api/v1/runs/{run['uuid']}/inputs", json={"artifact": data})
    second = client.post(f"/api/v1/runs/{run['uuid']}/inputs", json={"artifact": data})
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    report = {"kind": "other", "name": "confusion.png", "fingerprint": "sha256:def"}
    out = client.post(f"/api/v1/runs/{run['uuid']}/outputs", json={"artifact": report})
    assert out.status_code == 201
    execution = client.get(f"/api/v1/executions/{run['id']}").json()
    assert [e["artifact"]["name"] for e in execution["inputs"]] == ["churn-train"]
    assert [e["artifact"]["name"] for e in execution["outputs"]] == ["confusion.png"]
    cycle = client.post(f"/api/v1/runs/{run['uuid']}/outputs", json={"artifact": data})
    assert cycle.status_code == 409
