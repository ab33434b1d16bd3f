"""100 callers at once on the MLflow door and the artifact store, both databases: every answer
a 2xx or a named 4xx, nothing lost, nothing stored twice."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import httpx
from _support.servers import Server


def test_racing_params_and_uploads(server: Server, project: str) -> None:
    api = f"{server.url}/projects/{project}/api/2.0/mlflow"
    files = f"{server.url}/projects/{project}/api/2.0/mlflow-artifacts/artifacts"
    run = httpx.post(f"{api}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]

    def param(i: int) -> int:
        body = {"run_id": run, "key": "lr", "value": str(i % 4)}
        return httpx.post(f"{api}/runs/log-parameter", json=body, timeout=120).status_code

    def upload(i: int) -> int:
        path = f"0/{run}/artifacts/{'same' if i % 2 else f'f{i}'}.bin"
        return httpx.put(f"{files}/{path}", content=b"x" * 4096, timeout=120).status_code

    with ThreadPoolExecutor(max_workers=100) as pool:
        params = list(pool.map(param, range(100)))
        uploads = list(pool.map(upload, range(100)))
    assert set(params) <= {200, 400} and 200 in params  # one value wins; the rest are named 400s
    kept = httpx.get(f"{api}/runs/get", params={"run_id": run}).json()["run"]["data"]["params"]
    assert len(kept) == 1
    assert params.count(200) == sum(1 for i in range(100) if str(i % 4) == kept[0]["value"])
    assert uploads == [200] * 100
    listed = httpx.get(files, params={"path": f"0/{run}/artifacts"}).json()["files"]
    assert len(listed) == 51  # 50 distinct paths and the one written 50 times
    digest = hashlib.sha256(b"x" * 4096).hexdigest()
    assert httpx.get(f"{files}/0/{run}/artifacts/same.bin").headers["etag"] == f'"{digest}"'
