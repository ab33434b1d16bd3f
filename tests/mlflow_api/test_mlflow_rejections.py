"""Hostile and malformed calls to MLflow's routes: always MLflow's error body with a 4xx naming
the problem, never a 500, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

API = "/api/2.0/mlflow"


def _refused(answer: Any, status: int, code: str, *words: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error_code"] == code, body
    for word in words:
        assert word in body["message"], body


def _run(client: TestClient) -> str:
    made = client.post(f"{API}/runs/create", json={"experiment_id": "0", "run_name": "r"})
    assert made.status_code == 200, made.text
    return str(made.json()["run"]["info"]["run_id"])


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/runs/log-metric", {"key": "a", "value": 1, "timestamp": 1}, ["run_id"]),
        (
            "/runs/log-metric",
            {"run_id": "x", "key": "a", "value": "high", "timestamp": 1},
            ["value"],
        ),
        (
            "/runs/log-metric",
            {"run_id": "x", "key": "a", "value": 1, "timestamp": 2**70},
            ["timestamp"],
        ),
        ("/runs/log-parameter", {"run_id": "x", "key": "k" * 251, "value": "v"}, ["key"]),
        ("/runs/log-parameter", {"run_id": "x", "key": "k", "value": "v" * 6001}, ["value"]),
        ("/runs/set-tag", {"run_id": "x", "key": "", "value": "v"}, ["key"]),
        (
            "/runs/log-batch",
            {"run_id": "x", "metrics": [{"key": "a", "value": 1, "timestamp": 1}] * 1001},
            ["metrics"],
        ),
        (
            "/runs/log-batch",
            {"run_id": "x", "params": [{"key": f"p{i}", "value": "v"} for i in range(101)]},
            ["params"],
        ),
        ("/runs/search", {"experiment_ids": ["0"], "max_results": 50001}, ["max_results"]),
        ("/runs/search", {"experiment_ids": "0"}, ["experiment_ids"]),
        ("/experiments/create", {"name": ""}, ["name"]),
        ("/experiments/create", {"name": "x" * 257}, ["name"]),
        ("/runs/create", {"experiment_id": "0", "start_time": "yesterday"}, ["start_time"]),
    ],
)
def test_malformed_messages_are_invalid_parameter_value(
    client: TestClient, path: str, body: dict[str, Any], words: list[str]
) -> None:
    _refused(client.post(API + path, json=body), 400, "INVALID_PARAMETER_VALUE", *words)


def test_bodies_that_are_not_json_or_not_objects(client: TestClient) -> None:
    bad = client.post(
        f"{API}/runs/create", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    _refused(bad, 400, "MALFORMED_REQUEST", "JSON")
    _refused(client.post(f"{API}/runs/create", json=[1, 2]), 400, "INVALID_PARAMETER_VALUE")
    _refused(
        client.post(f"{API}/runs/update", json={"run_id": "x\u0000"}),
        422,
        "INVALID_PARAMETER_VALUE",
        "NUL",
    )


def test_unknown_things_are_not_found(client: TestClient) -> None:
    _refused(
        client.get(f"{API}/runs/get", params={"run_id": "f" * 32}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    _refused(
        client.get(f"{API}/runs/get", params={"run_id": "9" * 30}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    _refused(
        client.get(f"{API}/experiments/get", params={"experiment_id": "-1"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _refused(
        client.get(f"{API}/experiments/get", params={"experiment_id": "99999999999999999999"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _refused(
        client.get(f"{API}/experiments/get-by-name", params={"experiment_name": "nope"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _refused(
        client.post(f"{API}/traces", json={"experiment_id": "0"}),
        404,
        "ENDPOINT_NOT_FOUND",
    )
    _refused(
        client.get(f"{API}/metrics/get-history", params={"run_id": "f" * 32, "metric_key": "m"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_filters_the_grammar_cannot_say(client: TestClient) -> None:
    run = _run(client)
    for text, word in [
        ("metrics.auc >", "filter"),
        ("metrics.auc > 'x'", "number"),
        ("params.lr = 0.1", "quote"),
        ("datasets.size = 'x'", "dataset field"),
        ("attributes.colour = 'red'", "colour"),
        ("attributes.status = 'DONE'", "DONE"),
        ("unknown = 1", "unknown"),
        ("metrics.`a`b` > 1", "filter"),
        ("metrics.auc > 1 ; drop table run", "filter"),
        ("(" * 40 + "metrics.a > 1" + ")" * 40, "filter"),
    ]:
        answer = client.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": text})
        _refused(answer, 400, "INVALID_PARAMETER_VALUE", word)
    for order in (["metrics.auc sideways"], ["colour"], ["metrics.`"]):
        answer = client.post(
            f"{API}/runs/search", json={"experiment_ids": ["0"], "order_by": order}
        )
        _refused(answer, 400, "INVALID_PARAMETER_VALUE")
    answer = client.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "page_token": "abc"})
    _refused(answer, 400, "INVALID_PARAMETER_VALUE")
    found = client.post(
        f"{API}/runs/search",
        json={"experiment_ids": ["0"], "filter": "attributes.run_id = '" + run + "'"},
    )
    assert [r["info"]["run_id"] for r in found.json()["runs"]] == [run]


def test_a_param_cannot_change_and_a_batch_is_refused_whole(client: TestClient) -> None:
    run = _run(client)
    assert (
        client.post(
            f"{API}/runs/log-parameter", json={"run_id": run, "key": "lr", "value": "0.1"}
        ).status_code
        == 200
    )
    changed = client.post(
        f"{API}/runs/log-parameter", json={"run_id": run, "key": "lr", "value": "0.2"}
    )
    _refused(changed, 400, "INVALID_PARAMETER_VALUE", "lr")
    batch = {
        "run_id": run,
        "params": [{"key": "lr", "value": "0.3"}],
        "metrics": [{"key": "loss", "value": 1.0, "timestamp": 1, "step": 0}],
    }
    _refused(client.post(f"{API}/runs/log-batch", json=batch), 400, "INVALID_PARAMETER_VALUE", "lr")
    got = client.get(f"{API}/runs/get", params={"run_id": run}).json()["run"]
    assert got["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert got["data"]["metrics"] == []
    twice = {"run_id": run, "params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]}
    _refused(
        client.post(f"{API}/runs/log-batch", json=twice), 400, "INVALID_PARAMETER_VALUE", "twice"
    )


def test_non_finite_metrics_round_trip(client: TestClient) -> None:
    run = _run(client)
    for value in ("NaN", "Infinity", "-Infinity"):
        logged = client.post(
            f"{API}/runs/log-metric",
            json={"run_id": run, "key": value, "value": value, "timestamp": 1},
        )
        assert logged.status_code == 200, logged.text
    history = client.get(
        f"{API}/metrics/get-history", params={"run_id": run, "metric_key": "Infinity"}
    )
    assert history.json()["metrics"][0]["value"] == "Infinity"


def test_the_default_experiment_and_deleted_experiments(client: TestClient) -> None:
    default = client.get(f"{API}/experiments/get", params={"experiment_id": "0"}).json()
    assert default["experiment"]["name"] == "Default"
    _refused(
        client.post(f"{API}/experiments/delete", json={"experiment_id": "0"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Default",
    )
    made = client.post(f"{API}/experiments/create", json={"name": "gone"}).json()["experiment_id"]
    assert client.post(f"{API}/experiments/delete", json={"experiment_id": made}).status_code == 200
    refused = client.post(f"{API}/runs/create", json={"experiment_id": made})
    _refused(refused, 400, "INVALID_PARAMETER_VALUE", "deleted")
    again = client.post(f"{API}/experiments/create", json={"name": "gone"})
    _refused(again, 400, "RESOURCE_ALREADY_EXISTS")


def test_another_projects_run_is_not_found(client: TestClient, app: Any) -> None:
    from _support.helpers import LocalClient

    run = _run(client)
    with LocalClient(app, headers={"X-Mlledger-Project": "elsewhere-mlflow"}) as other:
        _refused(
            other.get(f"{API}/runs/get", params={"run_id": run}), 404, "RESOURCE_DOES_NOT_EXIST"
        )
        _refused(
            other.post(f"{API}/runs/log-parameter", json={"run_id": run, "key": "a", "value": "b"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        )


def test_rename_and_delete_while_nothing_names_the_model(client: TestClient) -> None:
    """MLflow's rename and deletes work on a model without a gate or pushes; a gated model
    keeps its name and versions (its gate and push log name it), said with the reason."""
    create = f"{API}/registered-models/create"
    version = {"name": "free", "source": "s3://bucket/m"}
    assert client.post(create, json={"name": "free"}).status_code == 200
    assert client.post(f"{API}/model-versions/create", json=version).status_code == 200
    renamed = client.post(f"{API}/registered-models/rename", json={"name": "free", "new_name": "n"})
    assert renamed.json()["registered_model"]["name"] == "n", renamed.text
    _refused(client.get(f"{API}/registered-models/get", params={"name": "free"}), 404,
             "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=free not found")  # fmt: skip
    assert client.post(create, json={"name": "taken"}).status_code == 200
    clash = client.post(f"{API}/registered-models/rename", json={"name": "n", "new_name": "taken"})
    _refused(clash, 400, "RESOURCE_ALREADY_EXISTS")
    gone = client.request(
        "DELETE", f"{API}/model-versions/delete", json={"name": "n", "version": "1"}
    )
    assert gone.status_code == 200, gone.text
    again = client.post(f"{API}/model-versions/create", json={**version, "name": "n"})
    assert again.json()["model_version"]["version"] == "2"  # numbers are not reused
    assert (
        client.request("DELETE", f"{API}/registered-models/delete", json={"name": "n"}).status_code
        == 200
    )
    assert client.post(create, json={"name": "n"}).status_code == 200  # the name is free again
    gate = {"thresholds": [{"metric": "auc", "value_threshold": {"lower_bound": 0.7}}]}
    assert client.put("/api/v1/models/taken/gate", json=gate).status_code == 200
    kept = client.post(f"{API}/registered-models/rename", json={"name": "taken", "new_name": "x"})
    _refused(kept, 400, "INVALID_PARAMETER_VALUE", "keeps its name", "its gate")
    kept = client.request("DELETE", f"{API}/registered-models/delete", json={"name": "taken"})
    _refused(kept, 400, "INVALID_PARAMETER_VALUE", "its gate")


def test_registry_refusals(client: TestClient) -> None:
    assert client.post(f"{API}/registered-models/create", json={"name": "m"}).status_code == 200
    nope = client.request("DELETE", f"{API}/registered-models/delete", json={"name": "nope"})
    _refused(nope, 404, "RESOURCE_DOES_NOT_EXIST")
    v = client.request("DELETE", f"{API}/model-versions/delete", json={"name": "m", "version": "1"})
    _refused(v, 404, "RESOURCE_DOES_NOT_EXIST")
    stage = {"name": "m", "version": "1", "stage": "Production"}
    _refused(
        client.post(f"{API}/model-versions/transition-stage", json=stage),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _refused(
        client.post(f"{API}/registered-models/create", json={"name": "m"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    _refused(
        client.get(f"{API}/registered-models/get", params={"name": "nope"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _refused(
        client.get(f"{API}/model-versions/get", params={"name": "m", "version": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "version",
    )
    _refused(
        client.get(f"{API}/model-versions/get", params={"name": "m", "version": "7"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _refused(
        client.post(
            f"{API}/registered-models/alias", json={"name": "m", "alias": "prod", "version": "3"}
        ),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _refused(
        client.post(f"{API}/model-versions/create", json={"name": "m"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "source",
    )
    _refused(
        client.post(f"{API}/model-versions/create", json={"name": "m", "source": "models:/m-zz"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _refused(
        client.get(f"{API}/model-versions/search", params={"filter": "tags.x = 'y'"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _refused(
        client.get(f"{API}/registered-models/search", params={"filter": "name ~ 'x'"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _refused(client.get(f"{API}/logged-models/m-{'0' * 32}"), 404, "RESOURCE_DOES_NOT_EXIST")
    _refused(client.get(f"{API}/logged-models/not-a-model"), 404, "RESOURCE_DOES_NOT_EXIST")
    _refused(
        client.patch(f"{API}/logged-models/m-{'0' * 31}1", json={"status": "SOMETHING"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _refused(
        client.post(
            f"{API}/logged-models/search", json={"experiment_ids": ["0"], "filter": "metrics.x > 1"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    made = client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    batch = {
        "run_id": made,
        "metrics": [{"key": "a", "value": 1, "timestamp": 1, "model_id": "m-nope"}],
    }
    _refused(client.post(f"{API}/runs/log-batch", json=batch), 404, "RESOURCE_DOES_NOT_EXIST")


def test_artifact_paths_that_climb_out_are_refused(client: TestClient) -> None:
    files = "/api/2.0/mlflow-artifacts/artifacts"
    assert client.put(f"{files}/0/r/artifacts/a.txt", content=b"hello").status_code == 200
    for bad in ("a%2F..%2F..%2Fx", "a/%2e%2e/x", "a/%00"):
        answer = client.put(f"{files}/{bad}", content=b"x")
        assert answer.status_code in (400, 422), (bad, answer.text)
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE", answer.text
    assert client.get(f"{files}", params={"path": "0/r/artifacts"}).json() == {
        "files": [{"path": "a.txt", "is_dir": False, "file_size": 5}]
    }
    _refused(client.get(f"{files}", params={"path": "../x"}), 400, "INVALID_PARAMETER_VALUE")
    _refused(client.delete(f"{files}/0/r/artifacts/none"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert client.delete(f"{files}/0/r/artifacts/a.txt").status_code == 200
    _refused(client.get(f"{files}/0/r/artifacts/a.txt"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_history_pages_and_the_bulk_interval(client: TestClient) -> None:
    runs_ = [_run(client), _run(client)]
    for run in runs_:
        batch = {
            "run_id": run,
            "metrics": [
                {"key": "loss", "value": i / 10, "timestamp": 5, "step": i} for i in range(1000)
            ],
        }
        assert client.post(f"{API}/runs/log-batch", json=batch).status_code == 200
    paged, token = [], ""
    while True:
        got = client.get(
            f"{API}/metrics/get-history",
            params={
                "run_id": runs_[0],
                "metric_key": "loss",
                "max_results": 300,
                "page_token": token,
            },
        ).json()
        paged += [m["step"] for m in got["metrics"]]
        token = got.get("next_page_token", "")
        if not token:
            break
    assert paged == list(range(1000))
    bulk = client.get(
        f"{API}/metrics/get-history-bulk-interval",
        params={
            "run_ids": runs_,
            "metric_key": "loss",
            "max_results": 5,
            "start_step": 0,
            "end_step": 999,
        },
    ).json()["metrics"]
    # MLflow's sampling: max_results steps evenly over the window's steps, plus the last; the
    # runs in the order asked.
    assert [(m["run_id"], m["step"]) for m in bulk] == [
        (r, s) for r in runs_ for s in (0, 200, 400, 600, 800, 999)
    ]
    window = client.get(
        f"{API}/metrics/get-history-bulk-interval",
        params={"run_ids": runs_[:1], "metric_key": "loss", "start_step": 10, "end_step": 12},
    ).json()["metrics"]
    assert [m["step"] for m in window] == [10, 11, 12] and window[0]["value"] == 1.0
    one = client.get(
        f"{API}/metrics/get-history-bulk-interval",
        params={"run_ids": runs_[:1], "metric_key": "loss", "max_results": 1},
    ).json()["metrics"]
    assert [m["step"] for m in one] == [0, 999]
    _refused(
        client.get(
            f"{API}/metrics/get-history-bulk-interval",
            params={"run_ids": runs_, "metric_key": "loss", "start_step": 5, "end_step": 1},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _refused(
        client.get(f"{API}/metrics/get-history-bulk-interval", params={"metric_key": "loss"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "run_ids",
    )
    _refused(
        client.get(
            f"{API}/metrics/get-history",
            params={"run_id": runs_[0], "metric_key": "loss", "page_token": "x"},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )


_PIECES = [*"ab_.`\"'%*[]()=<>!, \\/-9"]
_PIECES += ["and ", "like ", "metrics.", "attributes.", "tags.", "params.", "datasets.", "IN "]
_TEXT = st.lists(st.sampled_from([*_PIECES, "name", "status", "0.5", "DESC"]), max_size=14).map(
    "".join
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(filter=_TEXT, order=st.lists(_TEXT, max_size=3), token=_TEXT)
def test_typed_search_text_is_never_a_500(
    client: TestClient, filter: str, order: list[str], token: str
) -> None:
    for path, body in [
        (
            "/runs/search",
            {
                "experiment_ids": ["0"],
                "filter": filter,
                "order_by": order,
                "page_token": token[:40],
            },
        ),
        ("/experiments/search", {"filter": filter, "order_by": order, "page_token": token[:40]}),
        (
            "/logged-models/search",
            {"experiment_ids": ["0"], "filter": filter, "page_token": token[:20]},
        ),
    ]:
        answer = client.post(API + path, json=body)
        assert answer.status_code < 500, (path, body, answer.text)
        if answer.status_code >= 400:
            assert answer.json()["error_code"] in (
                "INVALID_PARAMETER_VALUE",
                "RESOURCE_DOES_NOT_EXIST",
            )
    for path in ("/registered-models/search", "/model-versions/search"):
        answer = client.get(API + path, params={"filter": filter, "page_token": token})
        assert answer.status_code < 500, (path, filter, answer.text)


def test_refusals_in_mlflows_own_words(client: TestClient) -> None:
    """MLflow's clients and tests match its server's phrasing of a bad parameter."""
    run = _run(client)
    for path, body, said in [
        ("/experiments/create", {"name": 123}, "Invalid value 123 for parameter 'name'"),
        ("/experiments/create", {}, "Missing value for required parameter 'name'"),
        (
            "/experiments/create",
            {"name": "x", "tags": "5"},
            "Invalid value \"5\" for parameter 'tags'",
        ),
        (
            "/runs/log-metric",
            {"run_id": 31, "key": "m", "value": 1, "timestamp": 1},
            "Invalid value 31 for parameter 'run_id'",
        ),
        (
            "/runs/log-metric",
            {"run_id": run, "key": "m", "value": 1, "timestamp": 1, "step": "foo"},
            "Invalid value \"foo\" for parameter 'step'",
        ),
        (
            "/runs/log-metric",
            {"run_id": run, "value": 1, "timestamp": 1},
            "Missing value for required parameter 'key'",
        ),
        (
            "/runs/log-metric",
            {"run_id": run, "key": None, "value": 1, "timestamp": 1},
            "Missing value for required parameter 'key'",
        ),
    ]:
        _refused(client.post(API + path, json=body), 400, "INVALID_PARAMETER_VALUE", said)
    listed = client.post(f"{API}/experiments/search", json={}).json()["experiments"]
    assert "Default" in [e["name"] for e in listed]  # experiment 0 always exists
    info = client.get(f"{API}/runs/get", params={"run_id": run}).json()["run"]["info"]
    assert info["user_id"] == "unknown"
