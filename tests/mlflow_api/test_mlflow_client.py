"""The real `mlflow` 3.17.2 client against a real `mlledger serve`, each answer then checked from
mlledger's side: an MLflow run is an ordinary mlledger run."""

from __future__ import annotations

import httpx
from _support.mlflow_client import run_mlflow
from _support.servers import Server


def _uri(server: Server, project: str) -> str:
    return f"{server.url}/projects/{project}"


def test_fluent_tracking_is_an_mlledger_run(
    server: Server, project: str, api: httpx.Client
) -> None:
    got = run_mlflow(
        """
        mlflow.set_experiment("churn")
        with mlflow.start_run(run_name="baseline") as run:
            mlflow.log_params({"lr": "0.1", "depth": 3})
            mlflow.log_metric("loss", 0.5, step=0)
            mlflow.log_metrics({"loss": 0.25, "val/auc": 0.91}, step=1)
            for i in range(200):
                mlflow.log_metric("async", float(i), step=i, synchronous=False)
            mlflow.set_tags({"team": "risk", "note": "two\\nlines"})
        mlflow.flush_async_logging()
        r = mlflow.get_run(run.info.run_id)
        out({
            "id": run.info.run_id,
            "experiment": run.info.experiment_id,
            "status": r.info.status,
            "name": r.info.run_name,
            "params": r.data.params,
            "metrics": r.data.metrics,
            "tags": r.data.tags,
            "history": [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")],
            "async": len(client.get_metric_history(run.info.run_id, "async")),
            "end": r.info.end_time,
        })
        """,
        _uri(server, project),
    )
    assert len(got["id"]) == 32 and got["status"] == "FINISHED" and got["end"]
    assert got["name"] == "baseline"
    assert got["params"] == {"lr": "0.1", "depth": "3"}
    assert got["metrics"] == {"loss": 0.25, "val/auc": 0.91, "async": 199.0}
    assert got["history"] == [[0, 0.5], [1, 0.25]]
    assert got["async"] == 200
    assert got["tags"]["team"] == "risk" and got["tags"]["note"] == "two\nlines"
    assert got["tags"]["mlflow.runName"] == "baseline"

    mine = api.get(f"/runs/{got['id']}").json()
    assert mine["experiment"] == "churn" and mine["state"] == "complete"
    assert mine["params"] == {"lr": "0.1", "depth": "3"}
    assert {m["key"]: m["value"] for m in mine["metrics"]}["val/auc"] == 0.91
    found = api.get(
        "/runs", params={"experiment": "churn", "filter": "metrics.`val/auc` > 0.9"}
    ).json()
    assert [r["uuid"] for r in found["items"]] == [got["id"]]
    (context,) = api.get("/contexts", params={"kind": "experiment", "name": "churn"}).json()[
        "items"
    ]
    assert got["experiment"] == str(context["id"])  # MLflow's experiment id is the context's


def test_search_runs_in_mlflows_grammar(server: Server, project: str) -> None:
    got = run_mlflow(
        """
        exp = mlflow.create_experiment("grid")
        ids = {}
        for i, (opt, auc) in enumerate([("adam", 0.7), ("sgd", 0.9), ("adam", 0.95), ("rms", 0.5)]):
            with mlflow.start_run(experiment_id=exp, run_name=f"r{i}") as run:
                mlflow.log_param("optimizer", opt)
                mlflow.log_metric("val/auc", auc)
                mlflow.set_tag("mlflow.note.content", f"run {i}")
            ids[f"r{i}"] = run.info.run_id
        client.set_terminated(ids["r3"], "FAILED")

        def names(**kw):
            return [r.info.run_name for r in client.search_runs([exp], **kw)]

        paged, token = [], None
        while True:
            page = client.search_runs([exp], max_results=3, page_token=token,
                                      order_by=['metrics."val/auc" DESC'])
            paged += [r.info.run_name for r in page]
            token = page.token
            if not token:
                break
        out({
            "by_metric": names(filter_string='metrics."val/auc" > 0.6', order_by=['metrics."val/auc" DESC']),
            "backticks": names(filter_string="metrics.`val/auc` < 0.6"),
            "param_and": names(filter_string="params.optimizer = 'adam' and metrics.`val/auc` >= 0.9"),
            "like": names(filter_string="params.optimizer LIKE 'a%'", order_by=["attributes.run_name ASC"]),
            "status": names(filter_string="attributes.status = 'FAILED'"),
            "bare_name": names(filter_string="run_name = 'r1'"),
            "ids": sorted(names(filter_string=f"attributes.run_id IN ('{ids['r0']}', '{ids['r2']}')")),
            "newest": names(),
            "paged": paged,
            "pandas": len(mlflow.search_runs(experiment_ids=[exp])),
        })
        """,
        _uri(server, project),
    )
    assert got["by_metric"] == ["r2", "r1", "r0"]
    assert got["backticks"] == ["r3"]
    assert got["param_and"] == ["r2"]
    assert got["like"] == ["r0", "r2"]
    assert got["status"] == ["r3"]
    assert got["bare_name"] == ["r1"]
    assert got["ids"] == ["r0", "r2"]
    assert got["newest"] == ["r3", "r2", "r1", "r0"]
    assert got["paged"] == ["r2", "r1", "r0", "r3"]
    assert got["pandas"] == 4


def test_mlflow_errors_are_mlflows_codes(server: Server, project: str) -> None:
    got = run_mlflow(
        """
        def code(call):
            try:
                call()
            except MlflowException as e:
                return e.error_code
            return None
        mlflow.set_experiment("errs")
        with mlflow.start_run() as run:
            mlflow.log_param("lr", "0.1")
        rid = run.info.run_id
        out({
            "param_changes": code(lambda: client.log_param(rid, "lr", "0.2")),
            "same_param": code(lambda: client.log_param(rid, "lr", "0.1")),
            "missing_run": code(lambda: client.get_run("0" * 32)),
            "missing_experiment": code(lambda: client.get_experiment("987654321")),
            "by_name": client.get_experiment_by_name("nope") is None,
            "duplicate": code(lambda: client.create_experiment("errs")),
            "bad_filter": code(lambda: client.search_runs(["0"], filter_string="metrics.auc >")),
            "bad_status": code(lambda: client.search_runs(["0"], filter_string="attributes.status = 'DONE'")),
            "bad_order": code(lambda: client.search_runs(["0"], order_by=["metrics.auc sideways"])),
        })
        """,
        _uri(server, project),
    )
    assert got == {
        "param_changes": "INVALID_PARAMETER_VALUE",
        "same_param": None,
        "missing_run": "RESOURCE_DOES_NOT_EXIST",
        "missing_experiment": "RESOURCE_DOES_NOT_EXIST",
        "by_name": True,
        "duplicate": "RESOURCE_ALREADY_EXISTS",
        "bad_filter": "INVALID_PARAMETER_VALUE",
        "bad_status": "INVALID_PARAMETER_VALUE",
        "bad_order": "INVALID_PARAMETER_VALUE",
    }


def test_delete_restore_and_killed(server: Server, project: str, api: httpx.Client) -> None:
    got = run_mlflow(
        """
        exp = mlflow.create_experiment("life")
        a = client.create_run(exp, run_name="a").info.run_id
        b = client.create_run(exp, run_name="b").info.run_id
        client.set_terminated(a, "KILLED")
        client.delete_run(b)
        state = {
            "killed": client.get_run(a).info.status,
            "deleted_stage": client.get_run(b).info.lifecycle_stage,
            "active": [r.info.run_name for r in client.search_runs([exp])],
            "deleted": [r.info.run_name for r in client.search_runs([exp], run_view_type=2)],
            "all": sorted(r.info.run_name for r in client.search_runs([exp], run_view_type=3)),
        }
        client.restore_run(b)
        state["restored"] = sorted(r.info.run_name for r in client.search_runs([exp]))
        client.delete_experiment(exp)
        state["exp_stage"] = client.get_experiment(exp).lifecycle_stage
        state["listed"] = [e.name for e in client.search_experiments()]
        state["listed_deleted"] = [e.name for e in client.search_experiments(view_type=2)]
        client.restore_experiment(exp)
        client.rename_experiment(exp, "life2")
        state["renamed"] = client.get_experiment(exp).name
        client.update_run(a, name="a2")
        state["run_renamed"] = client.get_run(a).info.run_name
        state["ids"] = [a, b]
        out(state)
        """,
        _uri(server, project),
    )
    assert got["killed"] == "KILLED" and got["deleted_stage"] == "deleted"
    assert got["active"] == ["a"] and got["deleted"] == ["b"] and got["all"] == ["a", "b"]
    assert got["restored"] == ["a", "b"]
    assert got["exp_stage"] == "deleted"
    assert "life" not in got["listed"] and got["listed_deleted"] == ["life"]
    assert got["renamed"] == "life2" and got["run_renamed"] == "a2"
    killed = api.get(f"/runs/{got['ids'][0]}").json()
    assert killed["state"] == "failed" and killed["experiment"] == "life2"
    assert killed["name"] == "a2"


def test_log_input_datasets_are_input_artifacts(
    server: Server, project: str, api: httpx.Client
) -> None:
    got = run_mlflow(
        """
        import pandas as pd
        mlflow.set_experiment("data")
        frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
        train = mlflow.data.from_pandas(frame, source="s3://bucket/churn/train.parquet", name="churn-train")
        with mlflow.start_run() as a:
            mlflow.log_input(train, context="training")
        with mlflow.start_run() as b:
            mlflow.log_input(train, context="eval")
        exp = a.info.experiment_id
        names = lambda f: sorted(r.info.run_id for r in client.search_runs([exp], filter_string=f))
        got = client.get_run(a.info.run_id).inputs.dataset_inputs
        out({
            "a": a.info.run_id, "b": b.info.run_id, "digest": train.digest,
            "logged": [(d.dataset.name, d.dataset.digest, d.dataset.source_type, [(t.key, t.value) for t in d.tags]) for d in got],
            "by_name": names("datasets.name = 'churn-train'"),
            "by_context": names("datasets.context = 'training'"),
            "by_digest": names(f"datasets.digest = '{train.digest}'"),
            "none": names("datasets.name = 'other'"),
        })
        """,
        _uri(server, project),
    )
    assert got["logged"] == [
        ["churn-train", got["digest"], "s3", [["mlflow.data.context", "training"]]]
    ]
    assert got["by_name"] == sorted([got["a"], got["b"]])
    assert got["by_context"] == [got["a"]] and got["none"] == []
    assert got["by_digest"] == sorted([got["a"], got["b"]])
    # One dataset artifact (the same digest twice), an INPUT of both runs, found by its URI.
    datasets = api.get("/artifacts", params={"kind": "dataset"}).json()["items"]
    assert [(d["name"], d["uri"]) for d in datasets] == [
        ("churn-train", "s3://bucket/churn/train.parquet")
    ]
    found = api.get(
        "/runs", params={"filter": "datasets.name = 'churn-train' and datasets.context = 'eval'"}
    )
    assert [r["uuid"] for r in found.json()["items"]] == [got["b"]]
