"""Hostile and racing callers of the OpenLineage routes, both databases: always a 4xx naming
the problem (never a 500), and nothing lost or stored twice."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from _support.servers import Server
from fastapi.testclient import TestClient

from mlledger.service.domain import tokens

URL = "/api/v1/lineage"


def _event(run: str, kind: str = "START", **more: Any) -> dict[str, Any]:
    return {
        "eventTime": "2026-12-01T10:00:00Z",
        "eventType": kind,
        "producer": "https://x",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json",
        "run": {"runId": run},
        "job": {"namespace": "airflow", "name": "race"},
        **more,
    }


def test_nesting_nul_huge_ids_and_unknown_ids(client: TestClient) -> None:
    # Facets 5,000 objects deep (sent as text: no JSON encoder nests that far).
    deep = '{"a":' * 5000 + "{}" + "}" * 5000
    body = (
        '{"eventTime": "2026-12-01T10:00:00Z", "producer": "p", "schemaURL": "s", '
        '"job": {"namespace": "a", "name": "b"}, "run": {"runId": "r", "facets": {"x": '
        + deep
        + "}}}"
    )
    nested = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert 400 <= nested.status_code < 500, nested.text
    nul = client.post(URL, json=_event("a\x00b"))
    assert nul.status_code in (400, 422), nul.text
    for params in ({"artifact_id": 2**70}, {"artifact_id": -1}, {"artifact_id": "x"}):
        assert client.get(f"{URL}/impact", params=params).status_code in (400, 422)
    assert client.get(f"{URL}/impact", params={"artifact_id": 2**62}).status_code == 404
    missing = client.get(f"{URL}/datasets", params={"namespace": "no", "name": "such"})
    assert missing.status_code == 404
    assert client.get(f"{URL}/events", params={"limit": 2**70}).status_code in (400, 422)
    too_many = _event(
        str(uuid.uuid4()), inputs=[{"namespace": "n", "name": f"t{i}"} for i in range(1001)]
    )
    assert client.post(URL, json=too_many).status_code in (400, 422)


def test_another_projects_dataset_is_not_found(client: TestClient, app: Any) -> None:
    from _support.helpers import LocalClient

    out = [{"namespace": "file", "name": f"/secret/{uuid.uuid4().hex}.parquet"}]
    made = client.post(URL, json=_event(str(uuid.uuid4()), "COMPLETE", outputs=out)).json()
    with LocalClient(app, headers={"X-Mlledger-Project": f"other-{uuid.uuid4().hex[:6]}"}) as other:
        assert (
            other.get(f"{URL}/impact", params={"artifact_id": made["outputs"][0]}).status_code
            == 404
        )
        assert other.get(f"{URL}/datasets", params=out[0]).status_code == 404


def test_100_racing_events_of_one_run_and_one_dataset(client: TestClient) -> None:
    run = str(uuid.uuid4())
    table = [{"namespace": "postgres://db", "name": f"t{uuid.uuid4().hex[:6]}"}]

    def send(i: int) -> int:
        body = _event(run, "RUNNING", inputs=table)
        body["eventTime"] = f"2026-12-01T10:00:{i % 60:02d}.{i:03d}Z"
        return client.post(URL, json=body).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(send, range(100)))
    assert statuses.count(201) == 100, statuses
    events = client.get(f"{URL}/events", params={"run_id": run, "limit": 1000}).json()["items"]
    assert len(events) == 100  # every event kept
    runs = {e["body"]["run"]["runId"] for e in events}
    assert runs == {run}
    answer = client.post(URL, json=_event(run, "COMPLETE", inputs=table)).json()
    execution = client.get(f"/api/v1/executions/{answer['execution_id']}").json()
    assert len(execution["inputs"]) == 1  # one run, one dataset version read
    listed = client.get("/api/v1/executions", params={"limit": 1000}).json()["items"]
    assert (
        sum(1 for e in listed if e["properties"].get("openlineage", {}).get("run_id") == run) == 1
    )


@pytest.fixture(scope="module")
def secured(db, database_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    project = f"olh-{uuid.uuid4().hex[:8]}"
    read, _ = tokens.create_for_project(db, project, name="r", scope="read", actor="test")
    s = Server(database_url, tmp_path_factory.mktemp("olh"), env={"MLLEDGER_AUTH": "required"})
    s.start()
    yield s, read
    s.stop()


def test_no_token_and_a_read_token_cannot_write(secured: tuple[Server, str]) -> None:
    server, read = secured
    body = _event(str(uuid.uuid4()))
    with httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.post(URL, json=body).status_code == 401
        low = c.post(URL, json=body, headers={"Authorization": f"Bearer {read}"})
        assert low.status_code == 403, low.text
        seen = c.get(f"{URL}/events", headers={"Authorization": f"Bearer {read}"})
        assert seen.status_code == 200 and seen.json()["items"] == []


def test_100_runs_racing_to_write_one_new_dataset(client: TestClient) -> None:
    table = {"namespace": "s3://lake", "name": f"new/{uuid.uuid4().hex}"}

    def send(_: int) -> Any:
        answer = client.post(URL, json=_event(str(uuid.uuid4()), "COMPLETE", outputs=[table]))
        return answer.status_code, answer.json().get("outputs")

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(send, range(100)))
    assert {status for status, _ in results} == {201}, results
    outputs = [o[0] for _, o in results]
    assert len(set(outputs)) == 100  # each run its own version, none lost or shared
    versions = client.get(
        "/api/v1/artifacts", params={"name": "s3://lake/" + table["name"], "limit": 1000}
    ).json()["items"]
    assert sorted(v["version"] for v in versions) == list(range(1, 101))


def test_the_batch_route_refuses_what_the_single_one_does(client: TestClient) -> None:
    """Wrong types, NUL, 5,000-deep facets, integers past 2^63 and another project's run id in
    a batch: a 4xx naming the problem, and nothing of the batch stored."""
    run = str(uuid.uuid4())
    good = _event(run)
    deep = '{"a":' * 5000 + "{}" + "}" * 5000
    nested = (
        '[{"eventTime": "2026-12-01T10:00:00Z", "job": {"namespace": "a", "name": "b"}, '
        '"run": {"runId": "r", "facets": {"x": ' + deep + "}}}]"
    )
    sent = client.post(f"{URL}/batch", content=nested, headers={"content-type": "application/json"})
    assert 400 <= sent.status_code < 500, sent.text
    for bad in (
        [good, _event("a\x00b")],
        [good, {**_event(str(uuid.uuid4())), "eventTime": 2**70}],
        [good, {**_event(str(uuid.uuid4())), "run": {"runId": 2**64}}],
        [good, {**_event(str(uuid.uuid4())), "inputs": "not a list"}],
    ):
        answer = client.post(f"{URL}/batch", json=bad)
        assert answer.status_code in (400, 422), answer.text
    broken = client.post(
        f"{URL}/batch", content=b"[{", headers={"content-type": "application/json"}
    )
    assert broken.status_code in (400, 422), broken.text
    assert client.get(f"{URL}/events", params={"run_id": run}).json()["items"] == []


def test_the_batch_route_needs_a_write_token(secured: tuple[Server, str]) -> None:
    server, read = secured
    body = [_event(str(uuid.uuid4()))]
    with httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.post(f"{URL}/batch", json=body).status_code == 401
        low = c.post(f"{URL}/batch", json=body, headers={"Authorization": f"Bearer {read}"})
        assert low.status_code == 403, low.text


def test_100_racing_batches_of_one_run(client: TestClient) -> None:
    run = str(uuid.uuid4())
    table = [{"namespace": "postgres://db", "name": f"t{uuid.uuid4().hex[:6]}"}]

    def send(i: int) -> int:
        events = []
        for k in range(3):
            e = _event(run, "RUNNING", inputs=table)
            e["eventTime"] = f"2026-12-01T10:{i % 60:02d}:{k:02d}.{i:03d}Z"
            events.append(e)
        return client.post(f"{URL}/batch", json=events).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(send, range(100)))
    assert statuses.count(201) == 100, statuses
    events = client.get(f"{URL}/events", params={"run_id": run, "limit": 1000}).json()["items"]
    assert len(events) == 300  # every event kept, once
    listed = client.get("/api/v1/executions", params={"limit": 1000}).json()["items"]
    mine = [e for e in listed if e["properties"].get("openlineage", {}).get("run_id") == run]
    assert len(mine) == 1
    assert len(client.get(f"/api/v1/executions/{mine[0]['id']}").json()["inputs"]) == 1
