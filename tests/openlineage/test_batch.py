"""`POST /api/v1/lineage/batch` (both databases): a batch maps exactly as its events sent one
by one would, is one transaction (a bad event or a cycle stores none), names a bad event by its
index, keeps repeats once, and racing batches of the same runs lose and double nothing."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _support.helpers import LocalClient
from fastapi.testclient import TestClient

URL = "/api/v1/lineage"
PG = "postgres://db:5432"


def _event(run: str, kind: str, when: str, job: str = "etl", **more: Any) -> dict[str, Any]:
    return {
        "eventTime": when,
        "eventType": kind,
        "producer": "https://github.com/apache/airflow",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run, "facets": more.pop("run_facets", {})},
        "job": {"namespace": "airflow", "name": job},
        **more,
    }


def _table(name: str, **facets: Any) -> dict[str, Any]:
    return {"namespace": PG, "name": name, "facets": facets}


def _story(tag: str) -> list[dict[str, Any]]:
    """Events touching every rule: a chain whose reader comes in the same batch as its writer,
    a run reading and writing one table, out-of-order events, a parent run, symlinks, column
    lineage, a version facet, a JobEvent, a DatasetEvent and a repeat."""
    raw, clean, report = f"{tag}.raw", f"{tag}.clean", f"{tag}.report"
    a, b, c, parent = (str(uuid.uuid4()) for _ in range(4))
    lineage = {"fields": {"id": {"inputFields": [{"namespace": PG, "name": raw, "field": "id"}]}}}
    link = {"identifiers": [{"namespace": "hive", "name": f"{tag}_raw_h", "type": "TABLE"}]}
    parent_facet = {
        "parent": {"run": {"runId": parent}, "job": {"namespace": "airflow", "name": "dag"}}
    }
    events = [
        _event(a, "START", "2026-12-01T10:00:00Z", job="load", outputs=[_table(raw, symlinks=link)]),
        _event(a, "COMPLETE", "2026-12-01T10:01:00Z", job="load", outputs=[_table(raw)]),
        _event(b, "COMPLETE", "2026-12-01T10:06:00Z", job="clean", run_facets=parent_facet,
               inputs=[{"namespace": "hive", "name": f"{tag}_raw_h"}],
               outputs=[_table(clean, columnLineage=lineage)]),
        _event(b, "START", "2026-12-01T10:05:00Z", job="clean", inputs=[_table(raw)],
               outputs=[_table(clean)]),
        _event(c, "START", "2026-12-01T10:10:00Z", job="totals", inputs=[_table(clean),
               _table(report)], outputs=[_table(report, version={"datasetVersion": "7"})]),
        _event(c, "FAIL", "2026-12-01T10:11:00Z", job="totals", inputs=[_table(clean)],
               outputs=[_table(report, version={"datasetVersion": "7"})]),
        {"eventTime": "2026-12-01T10:12:00Z", "producer": "https://x", "schemaURL":
         "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
         "job": {"namespace": "airflow", "name": "totals"}, "inputs": [_table(clean)],
         "outputs": [_table(report)]},
        {"eventTime": "2026-12-01T10:13:00Z", "producer": "https://x", "schemaURL":
         "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
         "dataset": _table(clean, documentation={"description": "cleaned"})},
    ]  # fmt: skip
    return [*events, events[1]]


def _graph(client: TestClient, answers: list[dict[str, Any]]) -> list[Any]:
    """What the answers name, without ids: each node as the API shows it."""

    def node(path: str, i: int | None) -> Any:
        if i is None:
            return None
        got = client.get(f"/api/v1/{path}/{i}").json()
        return _without_ids({k: v for k, v in got.items() if k not in {"inputs", "outputs"}})

    out = []
    for a in answers:
        out.append(
            [
                a["duplicate"],
                node("executions", a["execution_id"]),
                node("contexts", a["context_id"]),
                [node("artifacts", i) for i in a["inputs"]],
                [node("artifacts", i) for i in a["outputs"]],
            ]
        )
    return out


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_ids(v)
            for k, v in value.items()
            if k not in {"id", "created_at", "project_id", "artifact_id", "execution_id"}
        }
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _strip_tag(value: Any, tag: str) -> Any:
    import json

    return json.loads(json.dumps(value).replace(tag, "TAG"))


def test_a_batch_maps_as_its_events_one_by_one(client: TestClient, app: Any) -> None:
    tag = f"b{uuid.uuid4().hex[:6]}"
    events = _story(tag)
    batch = client.post(f"{URL}/batch", json=events)
    assert batch.status_code == 201, batch.text
    body = batch.json()
    assert body["stored"] == len(events) - 1 and body["duplicates"] == 1
    with LocalClient(app, headers={"X-Mlledger-Project": f"one-{uuid.uuid4().hex[:6]}"}) as one:
        singles = []
        for e in events:
            r = one.post(URL, json=e)
            assert r.status_code in (200, 201), r.text
            singles.append(r.json())
        # Same ids would be a coincidence; the same graph is the rule.
        ours = _graph(client, body["events"])
        theirs = _graph(one, singles)
    assert _strip_tag(ours, tag) == _strip_tag(theirs, tag)
    # And it is the graph the README describes.
    clean_reader = body["events"][4]
    assert [i for i in clean_reader["inputs"]] == [
        body["events"][2]["outputs"][0],
        body["events"][4]["inputs"][1],
    ]
    again = client.post(f"{URL}/batch", json=events)
    assert again.status_code == 200 and again.json()["stored"] == 0


def test_one_bad_event_refuses_the_batch_naming_it(client: TestClient) -> None:
    run = str(uuid.uuid4())
    good = _event(run, "START", "2026-12-01T10:00:00Z")
    bad = _event(str(uuid.uuid4()), "NOPE", "2026-12-01T10:00:00Z")
    answer = client.post(f"{URL}/batch", json=[good, bad])
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["details"]["field"] == "[1].eventType"
    missing = client.post(f"{URL}/batch", json=[good, {"producer": "x"}])
    assert missing.status_code == 422 and "eventTime" in missing.text
    assert "1" in str(missing.json()["error"]), missing.text
    assert client.get(f"{URL}/events", params={"run_id": run}).json()["items"] == []
    for wrong in ([], [good] * 1001, {"events": [good]}, "x"):
        assert client.post(f"{URL}/batch", json=wrong).status_code == 422


def test_a_cycle_refuses_the_batch_and_across_batches(client: TestClient) -> None:
    """A run writes a fixed version (datasetVersion), another reads it and writes Y, and the
    first run then says it read Y: a loop, refused with nothing of the batch stored."""
    tag = uuid.uuid4().hex[:6]
    x = _table(f"{tag}.x", version={"datasetVersion": "1"})
    y = _table(f"{tag}.y")
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    events = [
        _event(a, "START", "2026-12-01T10:00:00Z", job="a", outputs=[x]),
        _event(b, "COMPLETE", "2026-12-01T10:05:00Z", job="b", inputs=[x], outputs=[y]),
        _event(a, "COMPLETE", "2026-12-01T10:10:00Z", job="a", inputs=[y], outputs=[x]),
    ]
    refused = client.post(f"{URL}/batch", json=events)
    assert refused.status_code == 409 and "acyclic" in refused.text, refused.text
    assert client.get(f"{URL}/events", params={"run_id": a}).json()["items"] == []
    # The same loop over three requests: the last is refused, the first two stand.
    assert client.post(f"{URL}/batch", json=events[:1]).status_code == 201
    assert client.post(URL, json=events[1]).status_code == 201
    late = client.post(URL, json=events[2])
    assert late.status_code == 409 and a in late.text, late.text
    assert len(client.get(f"{URL}/events", params={"run_id": a}).json()["items"]) == 1


def test_racing_batches_of_the_same_runs(client: TestClient) -> None:
    tag = uuid.uuid4().hex[:6]
    runs = [str(uuid.uuid4()) for _ in range(20)]
    events = [
        _event(r, kind, f"2026-12-01T10:{i:02d}:{s:02d}Z", job=f"{tag}.j{i % 3}",
               inputs=[_table(f"{tag}.dim")], outputs=[_table(f"{tag}.t{i}")])
        for i, r in enumerate(runs)
        for s, kind in enumerate(("START", "RUNNING", "COMPLETE"))
    ]  # fmt: skip

    def send(k: int) -> int:
        # Eight callers, each its own slice and order of the same events.
        mine = events[k::2] if k % 2 else list(reversed(events))
        return client.post(f"{URL}/batch", json=mine).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(8)))
    assert set(statuses) <= {200, 201}, statuses
    stored = client.get(f"{URL}/events", params={"limit": 1000}).json()["items"]
    assert len([e for e in stored if e["run_id"] in runs]) == len(events)  # each once
    listed = client.get("/api/v1/executions", params={"limit": 1000}).json()["items"]
    mine = [e for e in listed if e["properties"].get("openlineage", {}).get("run_id") in runs]
    assert len(mine) == len(runs)  # one execution a run
    assert {e["state"] for e in mine} == {"complete"}
    for e in mine:
        got = client.get(f"/api/v1/executions/{e['id']}").json()
        assert len(got["inputs"]) == 1 and len(got["outputs"]) == 1
