"""ETL to ML in one graph: an "Airflow" job reports (events only) that it wrote the Parquet file
a Feast FileSource reads; a training set is made from the view, a model from the training set,
and its push is tried. The model's upstream lineage reaches the Airflow job and the table it read,
and impact analysis of that table lists the model — whichever came first, the job's event or
the feature repo's apply."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _support.feature_repo import apply_repo
from _support.pushing import GATE, M, evaluate, push
from fastapi.testclient import TestClient

ORDERS = {"namespace": "postgres://db:5432", "name": "shop.public.orders"}


def _airflow_wrote(client: TestClient, path: Path) -> dict[str, Any]:
    body = {
        "eventTime": "2026-12-01T03:00:00Z",
        "producer": "https://github.com/apache/airflow/tree/providers-openlineage/2.0.0",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "eventType": "COMPLETE",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "airflow", "name": "driver_stats_dag.export"},
        "inputs": [ORDERS],
        "outputs": [{"namespace": "file", "name": str(path)}],
    }
    answer = client.post("/api/v1/lineage", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("first", ["openlineage", "feast"])
def test_a_models_lineage_reaches_the_etl_job_and_impact_lists_it(
    client: TestClient, db, principal, svc, repo: Path, now, first: str
) -> None:  # type: ignore[no-untyped-def]
    data = repo.parent / "driver_stats.parquet"
    if first == "openlineage":
        job = _airflow_wrote(client, data)
        apply_repo(db, principal, svc, repo)
    else:
        apply_repo(db, principal, svc, repo)
        job = _airflow_wrote(client, data)
    training = client.post(
        "/api/v1/features/historical",
        json={
            "features": ["driver_hourly_stats:conv_rate"],
            "entity_rows": {
                "driver_id": [1001, 1002],
                "event_timestamp": [(now - timedelta(hours=1)).isoformat()] * 2,
            },
            "name": "churn-training",
        },
    )
    assert training.status_code == 201, training.text
    training_set = training.json()["artifact"]
    run = client.post("/api/v1/runs", json={"experiment": "churn"}).json()["uuid"]
    used = {k: training_set[k] for k in ("kind", "name", "uri", "fingerprint")}
    assert client.post(f"/api/v1/runs/{run}/inputs", json={"artifact": used}).status_code in (
        200,
        201,
    )
    model = {"kind": "model", "name": "churn", "fingerprint": f"m-{uuid.uuid4().hex}"}
    made = client.post(f"{M}/versions", json={"artifact": model, "run": run})
    assert made.status_code == 201, made.text
    version, artifact_id = made.json()["version"], made.json()["artifact"]["id"]
    assert client.put(f"{M}/gate", json=GATE).status_code == 200
    evaluate(client, version, auc=0.9)
    # The gate holds: the training set was never validated by a data gate, so the push is
    # refused (and impact analysis says so).
    pushed = push(client, version)
    assert pushed.status_code == 409 and "never validated" in pushed.text, pushed.text

    up = client.get(f"/api/v1/lineage/artifact/{artifact_id}",
                    params={"direction": "upstream", "depth": 20}).json()  # fmt: skip
    names = {n["name"] for n in up["nodes"]}
    assert "driver_stats_dag.export" in names  # the Airflow task's run
    assert f"{ORDERS['namespace']}/{ORDERS['name']}" in names  # and the table it read
    assert job["execution_id"] in {
        int(n["id"].split(":")[1]) for n in up["nodes"] if n["type"] == "execution"
    }

    impact = client.get("/api/v1/lineage/impact", params=ORDERS).json()
    hit = [m for m in impact["models"] if m["model"] == "churn" and m["version"] == version]
    assert hit, impact
    assert hit[0]["gated"] is True and hit[0]["status"] == "refused"
    assert "production" not in hit[0]["aliases"]
    assert [p["outcome"] for p in hit[0]["pushes"]] == ["refused"]
    query = """query($ns: String!, $name: String!) { impact(namespace: $ns, name: $name) {
      model version status gated aliases pushes { outcome } } }"""
    answer = client.post(
        "/graphql",
        json={"query": query, "variables": {"ns": ORDERS["namespace"], "name": ORDERS["name"]}},
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    same = [m for m in answer.json()["data"]["impact"] if m["model"] == "churn"]
    assert same == [{"model": "churn", "version": version, "status": "refused", "gated": True,
                     "aliases": hit[0]["aliases"], "pushes": [{"outcome": "refused"}]}]  # fmt: skip


def test_which_models_used_a_column(client: TestClient) -> None:
    lineage = {
        "fields": {"total": {"inputFields": [{**ORDERS, "field": "amount"}]}},
    }
    out = {
        "namespace": "file",
        "name": "/data/totals.parquet",
        "facets": {"columnLineage": lineage},
    }
    by_id = {"fields": {"n": {"inputFields": [{**ORDERS, "field": "id"}]}}}
    other = {"namespace": "file", "name": "/data/other.parquet", "facets": {"columnLineage": by_id}}
    for target in (out, other):
        body = {"eventTime": "2026-12-01T03:00:00Z", "eventType": "COMPLETE", "producer": "https://x",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json",
                "run": {"runId": str(uuid.uuid4())},
                "job": {"namespace": "airflow", "name": target["name"]},
                "inputs": [ORDERS], "outputs": [target]}  # fmt: skip
        assert client.post("/api/v1/lineage", json=body).status_code == 201
    totals = client.get(
        "/api/v1/lineage/datasets", params={"namespace": "file", "name": "/data/totals.parquet"}
    ).json()["artifact"]
    run = client.post("/api/v1/runs", json={"experiment": "cols"}).json()["uuid"]
    used = {k: totals[k] for k in ("kind", "name", "uri", "fingerprint")}
    assert client.post(f"/api/v1/runs/{run}/inputs", json={"artifact": used}).status_code in (
        200,
        201,
    )
    model = {"kind": "model", "name": "cols", "fingerprint": f"m-{uuid.uuid4().hex}"}
    assert (
        client.post(
            "/api/v1/models/cols/versions", json={"artifact": model, "run": run}
        ).status_code
        == 201
    )
    amount = client.get(
        "/api/v1/lineage/column-impact", params={**ORDERS, "field": "amount"}
    ).json()
    assert [a["name"] for a in amount["derived"]] == ["file:///data/totals.parquet"]
    assert [(m["model"], m["version"]) for m in amount["models"]] == [("cols", 1)]
    ids = client.get("/api/v1/lineage/column-impact", params={**ORDERS, "field": "id"}).json()
    assert [a["name"] for a in ids["derived"]] == ["file:///data/other.parquet"] and ids[
        "models"
    ] == []
    nothing = client.get("/api/v1/lineage/column-impact", params={**ORDERS, "field": "am%"}).json()
    assert nothing["derived"] == []  # a pattern character is a character
