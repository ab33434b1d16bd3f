"""Builders for model gate tests: a gated model, its versions, evaluations and pushes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

M = "/api/v1/models/churn"
GATE = {
    "thresholds": [
        {
            "metric": "auc",
            "value_threshold": {"lower_bound": 0.7},
            "change_threshold": {"direction": "HIGHER_IS_BETTER", "absolute": -0.005},
        },
        {
            "metric": "log_loss",
            "change_threshold": {"direction": "LOWER_IS_BETTER", "relative": 0.05},
        },
    ],
    "slicing_specs": [{"feature_keys": ["country"]}],
    "require_training_data": False,
}


def version(client: TestClient, n: int, *, dataset: str | None = None) -> int:
    body: dict[str, Any] = {"artifact": {"kind": "model", "name": "churn", "fingerprint": f"m{n}"}}
    if dataset is not None:
        run = client.post("/api/v1/runs", json={"experiment": "churn"}).json()
        client.post(
            f"/api/v1/runs/{run['uuid']}/inputs",
            json={"artifact": {"kind": "dataset", "name": dataset, "uri": f"file:///{dataset}"}},
        ).raise_for_status()
        body["run"] = run["uuid"]
    r = client.post(f"{M}/versions", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def evaluate(client: TestClient, v: int, auc: float, loss: float = 0.3, **countries: float):  # type: ignore[no-untyped-def]
    slices = [
        {"slice": {"country": c}, "metrics": {"auc": a, "log_loss": loss}, "example_count": 500}
        for c, a in (countries or {"DE": auc, "FR": auc}).items()
    ]
    r = client.post(
        f"{M}/versions/{v}/evaluations",
        json={"metrics": {"auc": auc, "log_loss": loss}, "example_count": 1000, "slices": slices},
    )
    assert r.status_code == 201, r.text
    return r.json()


def push(client: TestClient, v: int | None = None, **body: Any):  # type: ignore[no-untyped-def]
    return client.post(f"{M}/pushes", json={"version": v, **body} if v else body)
