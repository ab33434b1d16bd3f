"""`mlledger runs list|show`, `mlledger models list|show` against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _support.cli import Completed
from _support.cli import mlledger as mlledger_cli

import mlledger


def cli(*args: str) -> Completed:
    return mlledger_cli(*args)


def test_runs_and_models_commands(server, project: str, tmp_path: Path) -> None:
    client = mlledger.Client(server.url, project=project, spool_dir=tmp_path / "spool")
    (tmp_path / "model.bin").write_bytes(b"m")
    with client.start_run(
        "churn", name="good", params={"lr": 0.1}, capture_environment=False
    ) as run:
        run.log_metrics({"auc": 0.93})
        run.log_model("churn-model", path=tmp_path / "model.bin", metrics={"auc": 0.93})
    with client.start_run("churn", name="bad", capture_environment=False) as other:
        other.log_metrics({"auc": 0.7})
    client.close()
    where = ["--url", server.url, "--project", project]

    listed = cli("runs", "list", *where, "-f", "metrics.auc > 0.9")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:4] == ["RUN", "EXPERIMENT", "NAME", "STATE"] and "auc" in lines[0]
    assert len(lines) == 2 and run.uuid in lines[1] and "0.93" in lines[1]

    as_json = json.loads(cli("runs", "list", *where, "--json", "-o", "metrics.auc").stdout)
    assert [r["name"] for r in as_json] == ["bad", "good"]

    shown = cli("runs", "show", *where, run.uuid)
    assert shown.returncode == 0 and "lr = 0.1" in shown.stdout and "complete" in shown.stdout

    models = cli("models", "list", *where)
    assert "churn-model" in models.stdout
    model = cli("models", "show", *where, "churn-model")
    assert model.returncode == 0 and "auc=0.93" in model.stdout

    bad = cli("runs", "list", *where, "-f", "params.lr = 0.1")
    assert bad.returncode == 1 and "quote the value" in bad.stderr
    missing = cli("runs", "show", *where, "no-such-run")
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_gate_data_takes_the_rest_requests_options(server, project: str, api) -> None:  # type: ignore[no-untyped-def]
    """Drift and skew thresholds, the serving dataset and the environment as options, like
    `POST /validation/jobs`; the same options again reuse the job, other options rerun it."""
    for name in ("train", "served"):
        made = api.post("/artifacts", json={"kind": "dataset", "name": name, "uri": "/tmp/x.pq"})
        assert made.status_code == 201
    base = ["gate", "data", "--url", server.url, "--project", project, "--dataset", "train"]
    options = [
        "--drift",
        "0.1",
        "--drift-feature",
        "age=0.05",
        "--skew",
        "0.2",
        "--serving-dataset",
        "served",
        "--environment",
        "SERVING",
    ]
    first = cli(*base, *options, "--format", "json")
    assert first.returncode == 1, first.stderr  # requested, still pending: blocked
    job = json.loads(first.stdout)["job"]
    assert job["options"]["drift"] == {"default": 0.1, "features": {"age": 0.05}}
    assert job["options"]["skew"]["default"] == 0.2 and job["options"]["environment"] == "SERVING"
    served = api.get("/datasets/served/gate").json()["dataset"]["id"]
    assert job["options"]["serving_dataset"] == served
    again = json.loads(cli(*base, *options, "--format", "json").stdout)["job"]
    assert again["id"] == job["id"]  # the same question: the same job
    other = json.loads(cli(*base, "--drift", "0.3", "--format", "json").stdout)["job"]
    # Not yet taken by a worker, the queued job now asks the new question.
    assert other["options"]["drift"] == {"default": 0.3, "features": {}}
    assert "skew" not in other["options"]
    bad = cli(*base, "--drift-feature", "age")
    assert bad.returncode == 2 and "FEATURE=BOUND" in bad.stderr


SERVER_MODULES = ("mlledger.service", "mlledger.store", "fastapi", "sqlalchemy", "feast")


def test_client_commands_import_nothing_of_the_server(server, project: str) -> None:
    """A client command loads only its own code: the server's imports (Feast, SQLAlchemy,
    FastAPI: about two seconds) are paid by server commands alone (bench/startup times it)."""
    probe = (
        "import sys\n"
        "from mlledger.client._cli import main\n"
        "try:\n"
        f"    main(['runs', 'list', '--url', {server.url!r}, '--project', {project!r}])\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        f"print(sorted({{m.split('.')[0] if not m.startswith('mlledger') else m for m in "
        f"sys.modules if m.startswith({SERVER_MODULES!r})}}))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"
    # ...while the server commands are still there, by name, and load when they run.
    shown = cli("serve", "--help")
    assert shown.returncode == 0 and "--workers" in shown.stdout
    assert "worker" in cli("--help").stdout
