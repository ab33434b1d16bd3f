"""What MLflow's own server does that its client and UI depend on (facts read from MLflow's
tests/tracking/test_rest_tracking.py, checked here in our words): its sentences for missing
things, deleted runs refusing writes, the default search order, the UI's `ajax-api` routes and
artifact routes, the registry's rules for a version's source, logged-model search and outputs.
Both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def _ok(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def _refused(answer: Any, status: int, *words: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    for word in words:
        assert word in body["message"], body
    return body


def _experiment(client: TestClient, name: str = "e") -> str:
    return str(_ok(client.post(f"{API}/experiments/create", json={"name": name}))["experiment_id"])


def _run(client: TestClient, experiment: str = "0", **extra: Any) -> str:
    made = _ok(client.post(f"{API}/runs/create", json={"experiment_id": experiment, **extra}))
    return str(made["run"]["info"]["run_id"])


def test_missing_things_are_said_in_mlflows_sentences(client: TestClient) -> None:
    _refused(client.get(f"{API}/experiments/get", params={"experiment_id": "99999"}), 404,
             "No Experiment with id=99999 exists")  # fmt: skip
    run = "0" * 32
    _refused(client.get(f"{API}/runs/get", params={"run_id": run}), 404,
             f"Run with id={run} not found")  # fmt: skip
    _refused(client.get(f"{API}/registered-models/get", params={"name": "nope"}), 404,
             "Registered Model with name=nope not found")  # fmt: skip
    _ok(client.post(f"{API}/registered-models/create", json={"name": "rm"}))
    _refused(client.get(f"{API}/model-versions/get", params={"name": "rm", "version": "3"}), 404,
             "Model Version (name=rm, version=3) not found")  # fmt: skip
    missing = client.get(f"{API}/logged-models/m-{7:032x}")
    _refused(missing, 404, f"Logged model with ID 'm-{7:032x}' not found")


def test_a_deleted_run_takes_no_writes_until_restored(client: TestClient) -> None:
    run = _run(client)
    _ok(client.post(f"{API}/runs/set-tag", json={"run_id": run, "key": "t", "value": "v"}))
    _refused(client.post(f"{API}/runs/delete-tag", json={"run_id": run, "key": "nope"}), 404,
             "No tag with name: nope")  # fmt: skip
    _ok(client.post(f"{API}/runs/delete", json={"run_id": run}))
    inactive = f"The run {run} must be in the 'active' state"
    point = {"run_id": run, "key": "m", "value": 1, "timestamp": 1}
    for path, body in [
        ("/runs/log-metric", point),
        ("/runs/log-parameter", {"run_id": run, "key": "p", "value": "1"}),
        ("/runs/set-tag", {"run_id": run, "key": "t", "value": "w"}),
        ("/runs/delete-tag", {"run_id": run, "key": "t"}),
        ("/runs/log-batch", {"run_id": run, "metrics": [point]}),
    ]:
        answer = _refused(client.post(API + path, json=body), 400, inactive)
        assert answer["error_code"] == "INVALID_PARAMETER_VALUE"
    _ok(client.post(f"{API}/runs/restore", json={"run_id": run}))
    _ok(client.post(f"{API}/runs/log-metric", json=point))


def test_bad_requests_name_the_nested_field(client: TestClient) -> None:
    run = _run(client)
    metrics = [{"key": "mae", "value": 2.5}]
    answer = client.post(f"{API}/runs/log-batch", json={"run_id": run, "metrics": metrics})
    _refused(answer, 400, "Missing value for required parameter 'metrics[0].timestamp'")
    _refused(client.post(f"{API}/runs/log-inputs", json={"datasets": []}), 400,
             "Missing value for required parameter 'run_id'")  # fmt: skip
    answer = client.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "max_results": 10**8})
    _refused(answer, 400, "Invalid value 100000000 for parameter 'max_results' supplied")


def test_runs_that_share_a_start_time_come_in_run_id_order(client: TestClient) -> None:
    experiment = _experiment(client)
    made = sorted(_run(client, experiment, start_time=1) for _ in range(7))
    seen: list[str] = []
    token = None
    while True:
        body = {"experiment_ids": [experiment], "max_results": 3}
        page = _ok(
            client.post(f"{API}/runs/search", json=body | ({"page_token": token} if token else {}))
        )
        seen += [r["info"]["run_id"] for r in page["runs"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == made
    later = _run(client, experiment, start_time=5)
    first = _ok(client.post(f"{API}/runs/search", json={"experiment_ids": [experiment]}))
    assert first["runs"][0]["info"]["run_id"] == later  # newest start first


def _log(client: TestClient, run: str, points: list[tuple[int, int, float]]) -> None:
    metrics = [{"key": "a", "step": s, "timestamp": t, "value": v} for s, t, v in points]
    _ok(client.post(f"{API}/runs/log-batch", json={"run_id": run, "metrics": metrics}))


def test_the_uis_history_routes_under_ajax_api(client: TestClient) -> None:
    experiment = _experiment(client)
    one, two = _run(client, experiment), _run(client, experiment)
    _log(client, one, [(s, 1, 10.0) for s in range(10)])
    _log(client, two, [(s, 1, 20.0) for s in range(20)])
    bulk = _ok(client.get(f"{AJAX}/metrics/get-history-bulk",
                          params={"run_id": [two, one], "metric_key": "a"}))  # fmt: skip
    assert [p["run_id"] for p in bulk["metrics"]] == sorted([one] * 10 + [two] * 20)
    assert set(bulk["metrics"][0]) == {"key", "value", "timestamp", "step", "run_id"}
    _refused(client.get(f"{AJAX}/metrics/get-history-bulk", params={"metric_key": "a"}), 400,
             "must specify at least one run_id")  # fmt: skip
    interval = _ok(client.get(f"{AJAX}/metrics/get-history-bulk-interval",
                              params={"run_ids": [one, two], "metric_key": "a", "max_results": 5}))  # fmt: skip
    # Steps spread over every step either run logged (0..19), plus each run's last.
    by_run = {r: [p["step"] for p in interval["metrics"] if p["run_id"] == r] for r in (one, two)}
    assert by_run == {one: [0, 4, 8, 9], two: [0, 4, 8, 9, 12, 16, 19]}
    for params, words in [
        ({"metric_key": "a"}, "Missing value for required parameter 'run_ids'"),
        ({"run_ids": [one], "metric_key": "a", "max_results": 0}, "between 1 and 2500"),
        ({"run_ids": [one], "metric_key": "a", "start_step": 1}, "both must be specified"),
        ({"run_ids": [one], "metric_key": "a", "start_step": 2, "end_step": 1}, "greater than"),
    ]:
        _refused(client.get(f"{AJAX}/metrics/get-history-bulk-interval", params=params), 400, words)
    page = _ok(client.get(f"{AJAX}/metrics/get-history",
                          params={"run_id": one, "metric_key": "a", "max_results": 4}))  # fmt: skip
    assert len(page["metrics"]) == 4 and page["next_page_token"]


def test_an_experiments_datasets_and_a_runs_input_tags(client: TestClient) -> None:
    experiment = _experiment(client)
    run = _run(client, experiment)
    dataset = {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"}
    tags = [{"key": "foo", "value": "baz"}, {"key": "mlflow.data.context", "value": "train"}]
    inputs = [{"dataset": dataset, "tags": tags}]
    _ok(client.post(f"{API}/runs/log-inputs", json={"run_id": run, "datasets": inputs}))
    got = _ok(client.get(f"{API}/runs/get", params={"run_id": run}))["run"]["inputs"]
    assert got["dataset_inputs"][0]["tags"] == tags
    found = _ok(client.post(f"{AJAX}/experiments/search-datasets",
                            json={"experiment_ids": [experiment]}))  # fmt: skip
    assert found["dataset_summaries"] == [
        {"experiment_id": experiment, "name": "d", "digest": "abc", "context": "train"}
    ]
    _refused(client.post(f"{AJAX}/experiments/search-datasets", json={}), 400,
             "must specify at least one experiment_id")  # fmt: skip


def test_the_uis_artifact_routes_by_run(client: TestClient) -> None:
    run = _run(client)
    upload = f"{AJAX}/upload-artifact"
    _ok(client.post(upload, params={"run_uuid": run, "path": "dir/a.txt"}, content=b"hello"))
    got = client.get("/get-artifact", params={"run_uuid": run, "path": "dir/a.txt"})
    assert got.status_code == 200 and got.content == b"hello"
    listed = _ok(client.get(f"{API}/artifacts/list", params={"run_id": run}))
    assert listed["files"] == [{"path": "dir", "is_dir": True}]
    listed = _ok(client.get(f"{API}/artifacts/list", params={"run_id": run, "path": "dir"}))
    assert listed["files"] == [{"path": "dir/a.txt", "is_dir": False, "file_size": 5}]
    for params, words in [
        ({}, "Request must specify run_uuid."),
        ({"run_uuid": run}, "Request must specify path."),
        ({"run_uuid": run, "path": "b.txt"}, "Request must specify data."),
    ]:
        _refused(client.post(upload, params=params), 400, words)
    bad = "../path"
    for path, params in [
        (f"{API}/artifacts/list", {"run_id": run, "path": bad}),
        ("/get-artifact", {"run_id": run, "path": bad}),
        ("//model-versions/get-artifact", {"name": "m", "version": "1", "path": bad}),
        (upload, {"run_uuid": run, "path": bad}),
    ]:
        answer = client.request("POST" if path == upload else "GET", path, params=params)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("/tmp/model", "To use a local path as a model version source"),
        ("file:///tmp/model", "To use a local path as a model version source"),
        ("mlflow-artifacts://host:9000/models/../../../", "an absolute path must be provided"),
        ("http://host/models/..%2f..%2fartifacts", "an absolute path must be provided"),
        ("s3://bucket/model%00", "an absolute path must be provided"),
    ],
)
def test_a_versions_source_cannot_climb_or_be_a_local_path(
    client: TestClient, source: str, words: str
) -> None:
    _ok(client.post(f"{API}/registered-models/create", json={"name": "m"}))
    answer = client.post(f"{API}/model-versions/create", json={"name": "m", "source": source})
    _refused(answer, 400, words)


def test_a_version_of_a_run_elsewhere_keeps_its_run_id(client: TestClient) -> None:
    _ok(client.post(f"{API}/registered-models/create", json={"name": "m"}))
    body = {"name": "m", "source": "s3://bucket/model", "run_id": "f" * 32}
    made = _ok(client.post(f"{API}/model-versions/create", json=body))["model_version"]
    assert made["run_id"] == "f" * 32 and made["source"] == "s3://bucket/model"


def test_logged_models_search_outputs_and_versions(client: TestClient) -> None:
    experiment = _experiment(client)
    run = _run(client, experiment)
    create = f"{API}/logged-models"
    first = _ok(client.post(create, json={"experiment_id": experiment, "source_run_id": "123"}))
    second = _ok(client.post(create, json={"experiment_id": experiment}))
    one, two = first["model"]["info"], second["model"]["info"]
    assert one["name"] != two["name"] and one["source_run_id"] == "123"
    point = {"run_id": run, "key": "m", "value": 1, "timestamp": 1, "model_id": one["model_id"],
             "dataset_name": "d", "dataset_digest": "x"}  # fmt: skip
    _ok(client.post(f"{API}/runs/log-metric", json=point))
    search = f"{API}/logged-models/search"
    found = _ok(client.post(search, json={"experiment_ids": [experiment]}))["models"]
    assert [m["info"]["model_id"] for m in found] == [two["model_id"], one["model_id"]]
    body = {"experiment_ids": [experiment], "datasets": [{"dataset_name": "d"}]}
    found = _ok(client.post(search, json=body))["models"]
    assert [m["info"]["model_id"] for m in found] == [one["model_id"]]
    assert found[0]["data"]["metrics"][0]["dataset_digest"] == "x"
    assert found[0]["data"]["metrics"][0]["model_id"] == one["model_id"]
    body = {"experiment_ids": [experiment], "order_by": [{"field_name": "creation_timestamp"}]}
    found = _ok(client.post(search, json=body))["models"]
    assert [m["info"]["model_id"] for m in found] == [one["model_id"], two["model_id"]]
    outputs = {"run_id": run, "models": [{"model_id": two["model_id"], "step": 3}]}
    _ok(client.post(f"{API}/runs/outputs", json=outputs))
    got = _ok(client.get(f"{API}/runs/get", params={"run_id": run}))["run"]["outputs"]
    assert got["model_outputs"] == [{"model_id": two["model_id"], "step": 3}]
    _ok(client.post(f"{API}/registered-models/create", json={"name": "reg"}))
    version = {"name": "reg", "source": f"models:/{two['model_id']}", "model_id": two["model_id"]}
    _ok(client.post(f"{API}/model-versions/create", json=version))
    tags = _ok(client.get(f"{create}/{two['model_id']}"))["model"]["info"]["tags"]
    assert {"key": "mlflow.modelVersions", "value": '[{"name": "reg", "version": 1}]'} in tags
    _ok(client.delete(f"{create}/{one['model_id']}"))
    _refused(client.get(f"{create}/{one['model_id']}"), 404, "not found")


def test_stages_move_as_in_mlflow_but_not_a_gated_models_production(client: TestClient) -> None:
    _ok(client.post(f"{API}/registered-models/create", json={"name": "s"}))
    for _ in range(3):
        _ok(client.post(f"{API}/model-versions/create", json={"name": "s", "source": "s3://b/m"}))
    move = f"{API}/model-versions/transition-stage"
    _ok(client.post(move, json={"name": "s", "version": "1", "stage": "production"}))
    moved = _ok(client.post(move, json={"name": "s", "version": "2", "stage": "Production",
                                        "archive_existing_versions": True}))  # fmt: skip
    assert moved["model_version"]["current_stage"] == "Production"
    one = _ok(client.get(f"{API}/model-versions/get", params={"name": "s", "version": "1"}))
    assert one["model_version"]["current_stage"] == "Archived"
    latest = _ok(client.post(f"{API}/registered-models/get-latest-versions",
                             json={"name": "s"}))["model_versions"]  # fmt: skip
    assert [(v["version"], v["current_stage"]) for v in latest] == [
        ("3", "None"), ("2", "Production"), ("1", "Archived")
    ]  # fmt: skip
    staged = _ok(client.post(f"{API}/registered-models/get-latest-versions",
                             json={"name": "s", "stages": ["Staging"]}))  # fmt: skip
    assert staged["model_versions"] == []
    _refused(client.post(move, json={"name": "s", "version": "3", "stage": "Live"}), 400,
             "not one of None, Staging, Production, Archived")  # fmt: skip
    gate = {"thresholds": [{"metric": "auc", "value_threshold": {"lower_bound": 0.7}}]}
    assert client.put("/api/v1/models/s/gate", json=gate).status_code == 200
    refused = client.post(move, json={"name": "s", "version": "3", "stage": "Production"})
    _refused(refused, 400, "mlledger push --model s --version 3")
    _ok(client.post(move, json={"name": "s", "version": "3", "stage": "Staging"}))
