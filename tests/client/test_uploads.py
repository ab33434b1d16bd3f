"""Models and artifacts uploaded by mlledger's client: kept by content in the server's
artifact store, fetched back by alias through the client, the CLI, REST and MLflow's client —
the same bytes every way."""

from __future__ import annotations

import hashlib
import http.client
from pathlib import Path

import httpx
import pytest
from _support.cli import mlledger
from _support.mlflow_client import run_mlflow
from _support.servers import Server

import mlledger as ml
from mlledger.client import fingerprint
from mlledger.client.errors import ApiError


@pytest.fixture
def client(server: Server, project: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    c = ml.Client(server.url, project=project, spool_dir=tmp_path / "spool")
    yield c
    c.close()


def _model(folder: Path) -> Path:
    (folder / "weights").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "weights" / "w.bin").write_bytes(bytes(range(256)) * 4096)
    return folder


def test_an_uploaded_model_comes_back_by_alias_every_way(
    client: ml.Client, server: Server, project: str, api: httpx.Client, tmp_path: Path
) -> None:
    folder = _model(tmp_path / "model")
    with client.start_run("up", "train") as run:
        logged = run.log_model("churn", path=folder, upload=True)
        again = run.log_model("churn", path=folder, upload=True)  # the same files: one version
    assert logged.version == again.version == 1
    digest = fingerprint.of(folder).fingerprint
    assert logged.artifact.fingerprint == digest
    assert logged.artifact.uri == f"mlledger-artifacts:/models/churn/{digest.partition(':')[2]}"
    client.set_alias("churn", "production", 1)

    listed = api.get("/models/churn/aliases/production/files").json()
    assert listed["version"] == 1
    assert sorted(f["path"] for f in listed["files"]) == ["MLmodel", "weights/w.bin"]
    w = api.get("/models/churn/aliases/production/files/weights/w.bin")
    assert hashlib.sha256(w.content).hexdigest() == next(
        f["sha256"] for f in listed["files"] if f["path"] == "weights/w.bin"
    )

    by_client = client.download_model("churn", tmp_path / "c", alias="production")
    by_cli = tmp_path / "cli"
    done = mlledger(
        "models",
        "download",
        "churn",
        str(by_cli),
        "--alias",
        "production",
        "--url",
        server.url,
        "--project",
        project,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 files" in done.stdout
    by_mlflow = run_mlflow(
        f"""
        target = {str(tmp_path / "m")!r}
        out(mlflow.artifacts.download_artifacts("models:/churn@production", dst_path=target))
        """,
        f"{server.url}/projects/{project}",
    )
    Path(by_mlflow, "registered_model_meta").unlink(missing_ok=True)  # MLflow's own note
    for copy in (by_client, by_cli, Path(by_mlflow)):
        assert fingerprint.of(copy).fingerprint == digest, copy


def test_upload_refusals(
    client: ml.Client, server: Server, project: str, api: httpx.Client, tmp_path: Path
) -> None:
    # A version logged by URI only has no files here: a 409 that says how to get them.
    with client.start_run("up", "by-uri") as run:
        run.log_model("elsewhere", path=_model(tmp_path / "m"))
    refused = api.get("/models/elsewhere/versions/1/files")
    assert refused.status_code == 409 and "upload=True" in refused.json()["error"]["message"]
    with pytest.raises(ApiError) as caught:
        client.download_model("elsewhere", tmp_path / "x", version=1)
    assert caught.value.status == 409
    # Bytes that changed on the way are not kept.
    bad = api.put("/files/a/b.txt", content=b"hello", headers={"X-Mlledger-Sha256": "0" * 64})
    assert bad.status_code == 400 and "sha256" in bad.json()["error"]["message"]
    assert api.get("/files/a/b.txt").status_code == 404
    good = api.put(
        "/files/a/b.txt",
        content=b"hello",
        headers={"X-Mlledger-Sha256": hashlib.sha256(b"hello").hexdigest()},
    )
    assert good.status_code == 200 and good.json()["size"] == 5
    host, port = server.url.removeprefix("http://").split(":")
    for path in ("a/../b", "a/./b", "..", "a//b"):  # sent as written (httpx resolves dots)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("PUT", f"/api/v1/files/{path}", b"x", {"X-Mlledger-Project": project})
        answer = conn.getresponse()
        assert answer.status == 400, (path, answer.read())
        conn.close()
    assert api.get("/models/elsewhere/versions/1/files/../../x").status_code in (400, 404, 422)
    assert api.get("/models/nope/aliases/production/files").status_code == 404
    assert (
        api.get("/files/a/b.txt", headers={"X-Mlledger-Project": f"{project}-x"}).status_code == 404
    )
