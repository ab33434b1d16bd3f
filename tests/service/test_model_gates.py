"""Model gates over HTTP: thresholds, evaluations and blessings, pushes refused and allowed,
rollback, the append-only push log, and the `production` alias guarded by the gate.

Training-data gates with real TFDV workers are in tests/validation/test_model_gates.py; here the
versions either have no training data (the gate allows it) or data never validated."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from _support.helpers import LocalClient
from _support.pushing import GATE, M, evaluate, push, version
from fastapi.testclient import TestClient
from sqlalchemy import text


def test_worse_refused_better_pushed_rollback_and_the_log(client: TestClient) -> None:
    v1, v2, v3 = (version(client, n) for n in (1, 2, 3))
    assert client.put(f"{M}/gate", json=GATE).json()["revision"] == 1
    assert client.get(f"{M}/gate").json()["config"] == GATE  # as submitted: no added nulls

    first = evaluate(client, v1, auc=0.80)
    assert first["blessed"] and first["baseline_version"] is None
    skipped = [c for c in first["checks"] if c["kind"] == "change"]
    assert skipped and all(c["skipped"] for c in skipped)  # no incumbent: value thresholds only
    assert push(client, v1).status_code == 201
    assert client.get(f"{M}/aliases/production").json()["version"] == v1

    worse = evaluate(client, v2, auc=0.78)
    assert not worse["blessed"] and worse["baseline_version"] == v1
    (failed,) = [c for c in worse["checks"] if not c["passed"] and c["slice"] == "Overall"]
    assert failed["metric"] == "auc" and failed["baseline"] == 0.80 and failed["value"] == 0.78
    refused = push(client, v2)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "gate_blocked" and "auc" in error["message"]
    assert {r["kind"] for r in error["details"]["reasons"]} == {"threshold"}
    assert client.get(f"{M}/aliases/production").json()["version"] == v1

    better = evaluate(client, v3, auc=0.83, loss=0.29)
    assert better["blessed"], better["checks"]
    assert client.get(f"{M}/versions/{v3}/gate").json()["status"] == "passed"
    pushed = push(client, v3).json()
    assert pushed["outcome"] == "pushed" and pushed["previous_version"] == v1
    again = push(client, v3)
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"

    back = push(client, rollback=True)
    assert back.status_code == 201 and back.json()["version"] == v1
    assert client.get(f"{M}/aliases/production").json()["version"] == v1
    nothing = push(client, rollback=True)  # v1 was the first in production
    assert nothing.status_code == 409 and "nothing to roll back" in nothing.text

    log = client.get(f"{M}/pushes").json()["items"]
    assert [(p["action"], p["version"], p["outcome"]) for p in log] == [
        ("rollback", None, "refused"),
        ("rollback", v1, "pushed"),
        ("push", v3, "unchanged"),
        ("push", v3, "pushed"),
        ("push", v2, "refused"),
        ("push", v1, "pushed"),
    ]
    assert log[4]["reasons"] and log[5]["execution_id"]
    execution = client.get(f"/api/v1/executions/{log[5]['execution_id']}").json()
    assert execution["kind"] == "push"
    assert {e["role"] for e in execution["inputs"]} == {"model", "blessing"}
    content = client.get(
        f"/api/v1/artifacts/{worse['artifact_id']}/content", params={"format": "json"}
    )
    document = content.json()
    assert document["blessed"] is False and document["baseline_version"] == v1
    assert [c["message"] for c in document["checks"]] == [c["message"] for c in worse["checks"]]


def test_better_on_average_but_worse_for_one_country_is_refused(client: TestClient) -> None:
    v1, v2 = version(client, 1), version(client, 2)
    client.put(f"{M}/gate", json=GATE).raise_for_status()
    evaluate(client, v1, auc=0.80, DE=0.82, FR=0.78)
    push(client, v1).raise_for_status()
    candidate = evaluate(client, v2, auc=0.84, DE=0.90, FR=0.74)
    assert not candidate["blessed"]
    bad = [c for c in candidate["checks"] if not c["passed"]]
    assert [(c["slice"], c["metric"]) for c in bad] == [("country=FR", "auc")]
    r = push(client, v2)
    assert r.status_code == 409 and "country=FR" in r.text


def test_stale_blessings_and_racing_pushes(app, client: TestClient, project_name: str) -> None:
    vs = [version(client, n) for n in range(1, 5)]
    client.put(f"{M}/gate", json=GATE).raise_for_status()
    evaluate(client, vs[0], auc=0.8)
    push(client, vs[0]).raise_for_status()
    for v in vs[1:]:
        assert evaluate(client, v, auc=0.81)["blessed"]

    results: dict[int, int] = {}
    barrier = threading.Barrier(3)

    def race(v: int) -> None:
        with LocalClient(app, headers={"X-Mlledger-Project": project_name}) as c:
            barrier.wait()
            results[v] = push(c, v).status_code

    threads = [threading.Thread(target=race, args=(v,)) for v in vs[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [201, 409, 409], results
    (winner,) = [v for v, s in results.items() if s == 201]
    assert client.get(f"{M}/aliases/production").json()["version"] == winner
    loser = next(v for v, s in results.items() if s == 409)
    verdict = client.get(f"{M}/versions/{loser}/gate").json()
    assert verdict["status"] == "blocked" and verdict["incumbent"] == winner
    assert any(
        r["kind"] == "stale_blessing" and f"v{vs[0]}" in r["message"] for r in verdict["reasons"]
    )
    # A gate change makes every blessing stale until evaluated again.
    changed = {**GATE, "min_slice_size": 10}
    assert client.put(f"{M}/gate", json=changed).json()["revision"] == 2
    assert client.put(f"{M}/gate", json=changed).json()["revision"] == 2  # same: no bump
    evaluate(client, loser, auc=0.9)
    assert client.get(f"{M}/versions/{loser}/gate").json()["status"] == "passed"


def test_training_data_must_have_passed_its_gate(client: TestClient) -> None:
    v1 = version(client, 1, dataset="churn-train")
    v2 = version(client, 2)
    client.put(f"{M}/gate", json={**GATE, "require_training_data": True}).raise_for_status()
    evaluate(client, v1, auc=0.9)
    verdict = client.get(f"{M}/versions/{v1}/gate").json()
    assert verdict["status"] == "pending"  # never validated: CI may ask for the validation
    assert [d["name"] for d in verdict["training_datasets"]] == ["churn-train"]
    assert verdict["reasons"][0]["kind"] == "data_gate"
    r = push(client, v1)
    assert r.status_code == 409 and "never validated" in r.text
    evaluate(client, v2, auc=0.9)
    r = push(client, v2)
    assert r.status_code == 409 and "no training datasets in its lineage" in r.text


def test_production_moves_only_by_push_once_a_gate_is_set(client: TestClient) -> None:
    v1 = version(client, 1)
    assert client.put(f"{M}/aliases/production", json={"version": v1}).status_code == 200
    client.put(f"{M}/gate", json=GATE).raise_for_status()
    for r in (
        client.put(f"{M}/aliases/production", json={"version": v1}),
        client.delete(f"{M}/aliases/production"),
    ):
        assert r.status_code == 409 and "moves only by push" in r.text
    assert client.put(f"{M}/aliases/staging", json={"version": v1}).status_code == 200


def test_evaluating_needs_a_gate_and_bad_input_is_named(client: TestClient) -> None:
    v1 = version(client, 1)
    r = client.post(f"{M}/versions/{v1}/evaluations", json={"metrics": {"auc": 0.9}})
    assert r.status_code == 409 and "has no gate" in r.text
    assert client.get(f"{M}/gate").status_code == 409
    assert client.put("/api/v1/models/nope/gate", json=GATE).status_code == 404
    bad_gates = [
        ({"thresholds": []}, "thresholds"),
        ({"thresholds": [{"metric": "auc"}]}, "value_threshold, change_threshold"),
        ({"thresholds": [{"metric": "auc", "value_threshold": {}}]}, "lower_bound"),
        (
            {
                "thresholds": [
                    {"metric": "a", "value_threshold": {"lower_bound": 2, "upper_bound": 1}}
                ]
            },
            "above upper_bound",
        ),
        (
            {
                "thresholds": [
                    {"metric": "a", "change_threshold": {"direction": "UP", "absolute": 0}}
                ]
            },
            "direction",
        ),
        ({"thresholds": [GATE["thresholds"][0]] * 2}, "more than one threshold"),
        ({**GATE, "slicing_specs": [{}]}, "feature_keys"),
        ({**GATE, "tresholds": 1}, "tresholds"),
    ]
    for body, named in bad_gates:
        r = client.put(f"{M}/gate", json=body)
        assert 400 <= r.status_code < 500 and named in r.text, (body, r.text)
    client.put(f"{M}/gate", json=GATE).raise_for_status()
    bad_evaluations = [
        ({"metrics": {}}, "metrics"),
        ({"metrics": {"auc": "high"}}, "auc"),
        ({"metrics": {"auc": 1}, "dataset": "no-such-data"}, "no-such-data"),
        (
            {"metrics": {"auc": 1}, "slices": [{"slice": {"c": "x"}, "metrics": {"auc": 1}}] * 2},
            "given twice",
        ),
        ({"metrics": {"auc": 1}, "slices": [{"slice": {}, "metrics": {"auc": 1}}]}, "slice"),
    ]
    for body, named in bad_evaluations:
        r = client.post(f"{M}/versions/{v1}/evaluations", json=body)
        assert 400 <= r.status_code < 500 and named in r.text, (body, r.text)
    assert (
        client.post(f"{M}/versions/99/evaluations", json={"metrics": {"a": 1}}).status_code == 404
    )
    for body in ({}, {"version": 1, "rollback": True}, {"version": 0}, {"version": 1, "to": "a b"}):
        r = client.post(f"{M}/pushes", json=body)
        assert 400 <= r.status_code < 500, (body, r.text)
    assert client.post(f"{M}/pushes", json={"version": 7}).status_code == 404
    assert client.get("/api/v1/models/nope/pushes").status_code == 404


def test_the_push_log_cannot_be_rewritten(client: TestClient, db) -> None:  # type: ignore[no-untyped-def]
    v1 = version(client, 1)
    client.put(f"{M}/gate", json={**GATE, "require_training_data": False}).raise_for_status()
    evaluate(client, v1, auc=0.9)
    push(client, v1).raise_for_status()
    for statement in ("UPDATE model_push SET outcome = 'refused'", "DELETE FROM model_push"):
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))


def test_the_incumbent_is_compared_on_the_same_evaluation_data(client: TestClient) -> None:
    v1, v2 = version(client, 1), version(client, 2)
    client.put(f"{M}/gate", json=GATE).raise_for_status()
    for n in (1, 2):  # evaluation sets are datasets like any other (no file needed here)
        client.post(
            "/api/v1/artifacts",
            json={"kind": "dataset", "name": "churn-eval", "fingerprint": f"e{n}"},
        ).raise_for_status()

    def on(v: int, dataset: str, auc: float) -> dict[str, Any]:
        body = {
            "dataset": dataset,
            "metrics": {"auc": auc, "log_loss": 0.3},
            "slices": [{"slice": {"country": "DE"}, "metrics": {"auc": auc, "log_loss": 0.3}}],
        }
        r = client.post(f"{M}/versions/{v}/evaluations", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    on(v1, "churn-eval:1", 0.80)
    push(client, v1).raise_for_status()
    other = on(v2, "churn-eval:2", 0.90)
    assert not other["blessed"] and other["dataset"]["version"] == 2
    assert any("v1 has no evaluation on churn-eval:2" in c["message"] for c in other["checks"])
    again = on(v1, "churn-eval:2", 0.85)  # the incumbent, on the new data
    assert again["blessed"] and all(
        c.get("skipped") for c in again["checks"] if c["kind"] == "change"
    )
    assert on(v2, "churn-eval:2", 0.90)["blessed"]
    listed = client.get(f"{M}/versions/{v2}/evaluations").json()
    assert [e["blessed"] for e in listed] == [True, False]
