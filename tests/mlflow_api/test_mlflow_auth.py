"""MLflow's client with `MLFLOW_TRACKING_TOKEN` against a server that requires tokens: the
token decides the project and what the caller may do, in MLflow's error codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _support.mlflow_client import run_mlflow
from _support.servers import Server

from mlledger.service.domain import tokens
from mlledger.store.database import Database

CODE = """
def code(call):
    try:
        call()
    except MlflowException as e:
        return e.error_code
    return None
"""


@pytest.fixture(scope="module")
def guarded(
    db: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    server = Server(
        database_url, tmp_path_factory.mktemp("auth"), env={"MLLEDGER_AUTH": "required"}
    )
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_a_token_picks_the_project_and_its_scope_holds(
    guarded: Server, db: Database, project: str, tmp_path: Path
) -> None:
    writer, _ = tokens.create_for_project(db, project, name="w", scope="write", actor="test")
    reader, _ = tokens.create_for_project(db, project, name="r", scope="read", actor="test")
    other, _ = tokens.create_for_project(db, f"{project}-b", name="o", scope="admin", actor="test")
    made = run_mlflow(
        """
        mlflow.set_experiment("secured")
        with mlflow.start_run() as run:
            mlflow.log_param("lr", "0.1")
        out(run.info.run_id)
        """,
        guarded.url,
        token=writer,
    )
    mine = httpx.get(
        f"{guarded.url}/api/v1/runs/{made}", headers={"Authorization": f"Bearer {writer}"}
    )
    assert mine.status_code == 200 and mine.json()["params"] == {"lr": "0.1"}

    read = run_mlflow(
        CODE
        + f"""
out({{"get": client.get_run({made!r}).data.params,
     "write": code(lambda: client.set_tag({made!r}, "x", "y"))}})
""",
        guarded.url,
        token=reader,
    )
    assert read == {"get": {"lr": "0.1"}, "write": "PERMISSION_DENIED"}

    anonymous = run_mlflow(CODE + f"out(code(lambda: client.get_run({made!r})))", guarded.url)
    assert anonymous == "UNAUTHENTICATED"
    wrong = run_mlflow(
        CODE + f"out(code(lambda: client.get_run({made!r})))", guarded.url, token="mlt_not-a-token"
    )
    assert wrong == "UNAUTHENTICATED"
    # Another project's token sees no such run, and may not name this project in the path.
    elsewhere = run_mlflow(
        CODE + f"out(code(lambda: client.get_run({made!r})))", guarded.url, token=other
    )
    assert elsewhere == "RESOURCE_DOES_NOT_EXIST"
    prefixed = run_mlflow(
        CODE + f"out(code(lambda: client.get_run({made!r})))",
        f"{guarded.url}/projects/{project}",
        token=other,
    )
    assert prefixed == "PERMISSION_DENIED"
    # A refusal before the route (no token, a body on the way) is MLflow-shaped too.
    raw = httpx.post(f"{guarded.url}/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})
    assert raw.status_code == 401 and raw.json()["error_code"] == "UNAUTHENTICATED"
