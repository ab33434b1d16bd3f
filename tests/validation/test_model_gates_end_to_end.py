"""Model gates end to end: real TFDV workers decide the training data's gates, the real server
blesses and pushes, and CI talks to it through `mlledger gate model` and `mlledger push`."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from _support.cli import Completed, mlledger_process
from _support.cli import mlledger as mlledger_cli
from _support.customers import frame

GATE = {
    "thresholds": [
        {
            "metric": "auc",
            "value_threshold": {"lower_bound": 0.7},
            "change_threshold": {"direction": "HIGHER_IS_BETTER", "absolute": 0.0},
        }
    ],
    "slicing_specs": [{"feature_keys": ["country"]}],
}


def cli(server, project: str, *args: str, summary: Path | None = None) -> Completed:  # type: ignore[no-untyped-def]
    env = {"MLLEDGER_URL": server.url, "MLLEDGER_PROJECT": project}
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    return mlledger_cli(*args, env=env)


class Trainer:
    """What training code does: a run reads a dataset version and writes a model version."""

    def __init__(self, api: httpx.Client, tmp: Path) -> None:
        self.api, self.tmp, self.n = api, tmp, 0

    def dataset(self, df: Any) -> dict[str, Any]:
        self.n += 1
        path = self.tmp / f"train-{self.n}.parquet"
        df.to_parquet(path)
        return {"path": path, "fingerprint": f"sha256:{self.n}"}

    def model(self, data: dict[str, Any], auc: float, de: float, fr: float) -> tuple[int, int]:
        api = self.api
        run = api.post("/runs", json={"experiment": "churn"}).json()
        logged = api.post(
            f"/runs/{run['uuid']}/inputs",
            json={
                "artifact": {
                    "kind": "dataset",
                    "name": "churn-train",
                    "uri": data["path"].resolve().as_uri(),
                    "fingerprint": data["fingerprint"],
                    "properties": {"format": "parquet"},
                }
            },
        ).json()
        self.n += 1
        r = api.post(
            "/models/churn/versions",
            json={
                "run": run["uuid"],
                "artifact": {"kind": "model", "name": "churn", "fingerprint": f"m{self.n}"},
            },
        )
        assert r.status_code == 201, r.text
        v = r.json()["version"]
        e = api.post(
            f"/models/churn/versions/{v}/evaluations",
            json={
                "metrics": {"auc": auc},
                "slices": [
                    {"slice": {"country": "DE"}, "metrics": {"auc": de}},
                    {"slice": {"country": "FR"}, "metrics": {"auc": fr}},
                ],
            },
        )
        assert e.status_code == 201, e.text
        return v, logged["id"]


def test_worse_models_and_models_trained_on_failed_data_never_reach_production(  # type: ignore[no-untyped-def]
    tmp_path: Path, api: httpx.Client, server, project: str, workers, verdict
) -> None:
    api.post("/models", json={"name": "churn"}).raise_for_status()
    assert api.put("/models/churn/gate", json=GATE).status_code == 200
    train = Trainer(api, tmp_path)
    clean, broken = (
        train.dataset(frame(seed=1)),
        train.dataset(frame(seed=2).drop(columns=["clicks"])),
    )

    v1, clean_id = train.model(clean, auc=0.80, de=0.80, fr=0.80)
    workers.start()
    summary = tmp_path / "summary.md"
    # CI: the gate asks for the training data's validation and waits for the worker's verdict.
    ok = cli(
        server,
        project,
        "gate",
        "model",
        "--model",
        "churn",
        "--version",
        str(v1),
        "--wait",
        summary=summary,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "model gate churn v1: PASSED" in ok.stdout and "against no incumbent" in ok.stdout
    # The report shows the training data's verdicts too, not only what blocks.
    assert "training data (data gates):" in ok.stdout
    assert any(
        line.split()[:1] == ["passed"] and "churn-train:" in line for line in ok.stdout.splitlines()
    ), ok.stdout
    assert "| training dataset | data gate |" in summary.read_text()
    pushed = cli(server, project, "push", "--model", "churn", "--version", str(v1))
    assert pushed.returncode == 0 and "(none) -> v1" in pushed.stdout, pushed.stdout + pushed.stderr

    # Better metrics, but trained on data that fails its gate (a column went missing).
    v2, d2 = train.model(broken, auc=0.95, de=0.95, fr=0.95)
    assert verdict(d2)["status"] == "failed"
    junit = tmp_path / "gate.xml"
    blocked = cli(
        server,
        project,
        "gate",
        "model",
        "--model",
        "churn",
        "--version",
        str(v2),
        "--junit",
        str(junit),
        summary=summary,
    )
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "failed its data gate" in blocked.stdout and "clicks" in blocked.stdout
    # From the model, its training data's verdicts (the explorer's model page reads this).
    query = (
        'query($v: Int) { model(name: "churn") { version(number: $v) { trainingData '
        "{ status artifact { name version } dataGate { status reasons } } } } }"
    )
    graph = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": {"v": v2}},
        headers=api.headers,
    )
    (trained,) = graph.json()["data"]["model"]["version"]["trainingData"]
    assert trained["status"] == "failed" and trained["artifact"]["name"] == "churn-train"
    assert "clicks" in json.dumps(trained["dataGate"]["reasons"])
    assert 'failures="1"' in junit.read_text()
    refused = cli(server, project, "push", "--model", "churn", "--version", str(v2))
    assert refused.returncode == 1 and "REFUSED" in refused.stdout
    assert "churn-train" in refused.stdout and "failed its data gate" in refused.stdout

    # Clean data, worse for one country: refused; the reasons name the slice.
    v3, _ = train.model(clean, auc=0.85, de=0.90, fr=0.75)
    refused = cli(
        server, project, "push", "--model", "churn", "--version", str(v3), "--format", "json"
    )
    assert refused.returncode == 1
    reasons = json.loads(refused.stdout)["reasons"]
    assert [(r["kind"], r["slice"]) for r in reasons] == [("threshold", "country=FR")]

    # Two better versions race for production: exactly one wins.
    v4, _ = train.model(clean, auc=0.86, de=0.86, fr=0.86)
    v5, _ = train.model(clean, auc=0.87, de=0.87, fr=0.87)
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda v: mlledger_process(
                    "push",
                    "--model",
                    "churn",
                    "--version",
                    str(v),
                    env={"MLLEDGER_URL": server.url, "MLLEDGER_PROJECT": project},
                ),
                (v4, v5),
            )
        )
    assert sorted(r.returncode for r in results) == [0, 1], [r.stdout for r in results]
    winner = (v4, v5)[[r.returncode for r in results].index(0)]
    assert api.get("/models/churn/aliases/production").json()["version"] == winner
    loser = next(r for r in results if r.returncode == 1)
    assert "evaluate it again" in loser.stdout

    back = cli(server, project, "push", "--model", "churn", "--rollback")
    assert back.returncode == 0 and f"v{winner} -> v{v1}" in back.stdout
    log = api.get("/models/churn/pushes").json()["items"]
    assert [p["outcome"] for p in log] == [
        "pushed",
        "refused",
        "pushed",
        "refused",
        "refused",
        "pushed",
    ]
    text = summary.read_text()
    assert "✅ model gate churn v1: passed" in text and "❌ model gate churn v2: blocked" in text

    # What the explorer shows: the data gates with their statistics, on the datasets.
    q = """query($id: Int!) {
             artifact(id: $id) { status dataGate { status reasons statistics } } }"""
    for dataset, status in ((d2, "failed"), (clean_id, "passed")):
        r = api.post(
            server.url.removesuffix("/") + "/graphql",
            json={"query": q, "variables": {"id": dataset}},
        ).json()["data"]["artifact"]
        assert r["status"] == r["dataGate"]["status"] == status, r
        summary_ = r["dataGate"]["statistics"]
        assert summary_["num_examples"] == 400
        features = {f["name"]: f for f in summary_["features"]}
        assert features["country"]["unique"] == 3 and features["age"]["mean"] > 30
        assert ("clicks" in features) is (status == "passed")

    assert cli(server, project, "push", "--model", "churn").returncode == 2  # no version
    assert cli(server, project, "push", "--model", "nope", "--version", "1").returncode == 2
    missing = cli(server, project, "gate", "model", "--model", "churn", "--version", "99")
    assert missing.returncode == 2 and "no version 99" in missing.stderr
