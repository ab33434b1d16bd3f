"""MLflow's artifacts, logged models and model registry through its real client: the bytes
land in mlledger's artifact store, a logged model is a model artifact with lineage, and a gated
`production` alias cannot be set around `mlledger push`."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from textwrap import dedent

import httpx
import pytest
from _support.mlflow_client import run_mlflow
from _support.servers import Server, free_port

from mlledger.client import fingerprint

ADDER = """
import pandas as pd
class Add(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input["x"] + 1
"""


def _uri(server: Server, project: str) -> str:
    return f"{server.url}/projects/{project}"


def test_artifacts_stream_to_the_store_and_back(
    server: Server, project: str, tmp_path: Path
) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_text("hello\n")
    (tmp_path / "d" / "sub" / "b.json").write_text('{"x": "\\u0000"}')  # a file, not a request
    big = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "big.bin").write_bytes(big)
    got = run_mlflow(
        f"""
        import filecmp, tempfile
        mlflow.set_experiment("arts")
        with mlflow.start_run() as run:
            mlflow.log_artifact({str(tmp_path / "big.bin")!r})
            mlflow.log_artifacts({str(tmp_path / "d")!r}, artifact_path="folder")
            mlflow.log_text("again", "notes/n.txt")
        top = [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run.info.run_id)]
        sub = [(f.path, f.is_dir) for f in client.list_artifacts(run.info.run_id, "folder/sub")]
        out_dir = tempfile.mkdtemp()
        where = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=out_dir)
        same = filecmp.cmp(os.path.join(where, "big.bin"), {str(tmp_path / "big.bin")!r}, shallow=False)
        out({{"top": top, "sub": sub, "same": same, "uri": run.info.artifact_uri, "run": run.info.run_id,
              "b": open(os.path.join(where, "folder/sub/b.json")).read()}})
        """,
        _uri(server, project),
    )
    assert got["top"] == [
        ["big.bin", False, len(big)],
        ["folder", True, None],
        ["notes", True, None],
    ]
    assert got["sub"] == [["folder/sub/b.json", False]]
    assert got["same"] is True and got["b"] == '{"x": "\\u0000"}'

    # Range reads of the same file, and the answers MLflow's routes give to bad paths.
    path = got["uri"].removeprefix("mlflow-artifacts:/") + "/big.bin"
    files = f"{_uri(server, project)}/api/2.0/mlflow-artifacts/artifacts"
    part = httpx.get(f"{files}/{path}", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == big[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(big)}"
    tail = httpx.get(f"{files}/{path}", headers={"Range": "bytes=-5"})
    assert tail.content == big[-5:]
    assert httpx.get(f"{files}/{path}", headers={"Range": "bytes=99999999-"}).status_code == 416
    whole = httpx.get(f"{files}/{path}")
    assert hashlib.sha256(whole.content).hexdigest() == hashlib.sha256(big).hexdigest()
    assert whole.headers["etag"] == f'"{hashlib.sha256(big).hexdigest()}"'
    # Sent as written (httpx would resolve the dot segments before sending them).
    host, port = server.url.removeprefix("http://").split(":")
    for bad in ("a/../../etc/passwd", "a/./b", "a//b", "%2e%2e/x"):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("PUT", f"/projects/{project}/api/2.0/mlflow-artifacts/artifacts/{bad}", b"x")
        answer = conn.getresponse()
        body = json.loads(answer.read())
        conn.close()
        assert answer.status == 400, (bad, body)
        assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
    missing = httpx.get(f"{files}/{path}.nope")
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # Another project sees none of it.
    other = httpx.get(
        f"{server.url}/projects/{project}-other/api/2.0/mlflow-artifacts/artifacts/{path}"
    )
    assert other.status_code == 404


def test_log_model_register_alias_and_load(
    server: Server, project: str, api: httpx.Client, tmp_path: Path
) -> None:
    got = run_mlflow(
        ADDER
        + dedent(
            f"""
        import tempfile
        mlflow.set_experiment("reg")
        with mlflow.start_run() as run:
            mlflow.log_metric("acc", 0.9, step=0)
            info = mlflow.pyfunc.log_model(name="model", python_model=Add())
        folder = mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri, dst_path={str(tmp_path / "dl")!r})
        version = mlflow.register_model(info.model_uri, "adder")
        client.set_registered_model_alias("adder", "staging", version.version)
        loaded = mlflow.pyfunc.load_model("models:/adder@staging")
        out({{
            "run": run.info.run_id,
            "model_id": info.model_id,
            "version": version.version,
            "version_run": version.run_id,
            "predicted": loaded.predict(pd.DataFrame({{"x": [1, 2]}})).tolist(),
            "history": len(client.get_metric_history(run.info.run_id, "acc")),
            "status": str(client.get_logged_model(info.model_id).status),
            "aliases": client.get_registered_model("adder").aliases,
            "by_alias": client.get_model_version_by_alias("adder", "staging").version,
            "folder": folder,
        }})
        """
        ),
        _uri(server, project),
    )
    assert got["predicted"] == [2, 3]
    assert got["version"] == "1" and got["version_run"] == got["run"]
    assert got["history"] == 1  # log_model re-sends the run's metrics with the model id: once
    assert got["status"].endswith("READY")
    assert got["aliases"] == {"staging": "1"} and got["by_alias"] == "1"

    # mlledger's side: the version's artifact is a live model, output of the run, whose
    # fingerprint is the one mlledger's client computes for the downloaded folder.
    version = api.get("/models/adder/versions/1").json()
    artifact = api.get(f"/artifacts/{version['artifact_id']}").json()
    assert artifact["kind"] == "model" and artifact["state"] == "live"
    # MLflow's client writes a `registered_model_meta` file of its own into what it downloads.
    (Path(got["folder"]) / "registered_model_meta").unlink(missing_ok=True)
    assert artifact["fingerprint"] == fingerprint.of(got["folder"]).fingerprint
    run = api.get(f"/runs/{got['run']}").json()
    lineage = api.get(f"/lineage/artifact/{artifact['id']}", params={"direction": "upstream"})
    assert lineage.status_code == 200, lineage.text
    assert f"execution:{run['id']}" in {n["id"] for n in lineage.json()["nodes"]}


def test_a_gated_production_alias_is_refused(
    server: Server, project: str, api: httpx.Client
) -> None:
    run_mlflow(
        ADDER
        + dedent(
            """
        mlflow.set_experiment("gated")
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(name="model", python_model=Add())
        mlflow.register_model(info.model_uri, "guarded")
        out(True)
        """
        ),
        _uri(server, project),
    )
    gate = {"thresholds": [{"metric": "auc", "value_threshold": {"lower_bound": 0.7}}]}
    assert api.put("/models/guarded/gate", json=gate).status_code == 200
    got = run_mlflow(
        """
        try:
            client.set_registered_model_alias("guarded", "production", "1")
            out({"refused": False})
        except MlflowException as e:
            out({"refused": True, "code": e.error_code, "message": e.message})
        client.set_registered_model_alias("guarded", "candidate", "1")  # others move freely
        """,
        _uri(server, project),
    )
    assert got["refused"] and got["code"] == "INVALID_STATE"
    assert "mlledger push --model guarded --version 1" in got["message"]
    assert "not been evaluated" in got["message"]  # the push's own reason
    assert api.get("/models/guarded").json()["aliases"] == {"candidate": 1}


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """moto's standalone S3 server on loopback (a real S3 API, as s3fs's tests use)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port), "-H", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{endpoint}/moto-api/", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "moto_server did not start"
        time.sleep(0.1)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    import boto3

    boto3.client("s3", endpoint_url=endpoint, **_creds(env)).create_bucket(Bucket="models")
    yield {"endpoint": endpoint, **env}
    proc.terminate()
    proc.wait(timeout=30)


def _creds(env: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_DEFAULT_REGION"],
    }


def test_artifacts_on_s3(s3: dict[str, str], db: object, database_url: str, tmp_path: Path) -> None:
    """The same upload and download with MLLEDGER_ARTIFACTS__ROOT=s3://..., the objects under
    their digests in the bucket."""
    env = {k: v for k, v in s3.items() if k != "endpoint"}
    server = Server(
        database_url, tmp_path, env={**env, "MLLEDGER_ARTIFACTS__ROOT": "s3://models/store"}
    )
    server.start()
    try:
        payload = os.urandom(2 * 1024 * 1024)
        (tmp_path / "w.bin").write_bytes(payload)
        got = run_mlflow(
            f"""
            import tempfile
            mlflow.set_experiment("s3")
            with mlflow.start_run() as run:
                mlflow.log_artifact({str(tmp_path / "w.bin")!r})
                mlflow.log_artifact({str(tmp_path / "w.bin")!r}, artifact_path="copy")
            where = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=tempfile.mkdtemp())
            out({{"bytes": open(os.path.join(where, "copy", "w.bin"), "rb").read().hex()}})
            """,
            f"{server.url}/projects/s3-{os.getpid()}",
        )
        assert bytes.fromhex(got["bytes"]) == payload
        import boto3

        listed = boto3.client("s3", endpoint_url=s3["endpoint"], **_creds(s3)).list_objects_v2(
            Bucket="models", Prefix="store/sha256/"
        )
        digest = hashlib.sha256(payload).hexdigest()
        keys = [o["Key"] for o in listed.get("Contents", [])]
        assert f"store/sha256/{digest[:2]}/{digest[2:4]}/{digest}" in keys
        assert len([k for k in keys if k.endswith(digest)]) == 1  # two paths, one object
    finally:
        server.stop()
