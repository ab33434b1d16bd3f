"""The operator's and the client's path: `mlledger features apply|materialize|get` as
processes against a real server (over HTTP, as CI applies a repo), and
`client.features.get_online / get_historical`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from _support.cli import Completed
from _support.cli import mlledger as mlledger_cli
from _support.feature_repo import DRIVERS
from _support.servers import Server
from fastapi.testclient import TestClient

import mlledger


@pytest.fixture
def served(settings, tmp_path: Path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """A real server on the test's database, Redis and home; it starts in tmp_path, so the
    repo's data (written there) is under its default `features.data_roots`."""
    server = Server(
        settings.resolved_database_url,
        tmp_path,
        env={"MLLEDGER_REDIS_URL": settings.redis_url, "MLLEDGER_HOME": str(settings.home)},
    )
    server.start()
    yield server
    server.stop()


def cli(*args: str, url: str, project: str) -> Completed:
    return mlledger_cli("features", *args, env={"MLLEDGER_URL": url, "MLLEDGER_PROJECT": project})


def test_apply_materialize_then_read_through_the_client(
    client: TestClient, served: Server, project_name: str, repo: Path, now, tmp_path: Path
) -> None:
    url = served.url
    applied = cli("apply", str(repo), url=url, project=project_name)
    assert applied.returncode == 0, applied.stderr
    assert "driver_hourly_stats" in applied.stdout and "lineage recorded" in applied.stdout

    start = (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    end = (now + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    done = cli("materialize", "--start", start, "--end", end, url=url, project=project_name)
    assert done.returncode == 0, done.stderr
    bad = cli("materialize", url=url, project=project_name)
    assert bad.returncode == 2 and "--incremental" in bad.stderr
    incremental = cli("materialize", "--incremental", url=url, project=project_name)
    assert incremental.returncode == 0, incremental.stderr

    runs = client.get("/api/v1/executions", params={"kind": "materialization"}).json()["items"]
    assert len(runs) == 2
    assert runs[0]["params"]["start"] == "incremental"
    first = client.get(f"/api/v1/executions/{runs[1]['id']}").json()
    assert {e["artifact"]["name"] for e in first["inputs"]} >= {"driver_hourly_stats"}

    ours = mlledger.Client(
        "http://127.0.0.1:8080",  # a loopback host, as LocalClient connects
        project=project_name,
        spool_dir=tmp_path / "spool",
        transport=client._transport,
    )
    got = ours.features.get_online(
        {"driver_id": DRIVERS[:2]}, features=["driver_hourly_stats:city"]
    )
    assert got.statuses["driver_hourly_stats:city"] == ["PRESENT", "PRESENT"]
    assert got.rows()[0]["driver_id"] == DRIVERS[0]
    with_service = ours.features.get_online({"driver_id": [1]}, feature_service="driver_activity")
    assert set(with_service.statuses["driver_hourly_stats:conv_rate"]) == {"NOT_FOUND"}

    rows = pd.DataFrame(
        {"driver_id": DRIVERS, "event_timestamp": [now - timedelta(minutes=30)] * len(DRIVERS)}
    )
    training = ours.features.get_historical(
        rows, features=["driver_hourly_stats:conv_rate"], name="cli-training"
    )
    assert list(training.driver_id) == DRIVERS and training.conv_rate.notna().all()
    assert training.attrs["mlledger_artifact"]["name"] == "cli-training"
    ours.close()


def test_features_get_prints_what_a_model_server_is_served(
    served: Server, project_name: str, repo: Path, now, tmp_path: Path, db
) -> None:
    """`mlledger features get` against a real server: values per entity, statuses spelled
    out, JSON on request, and bad arguments named."""
    url = served.url
    assert cli("apply", str(repo), url=url, project=project_name).returncode == 0
    end = (now + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    start = (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert (
        cli("materialize", "--start", start, "--end", end, url=url, project=project_name).returncode
        == 0
    )

    def get(*args: str) -> Completed:
        return cli("get", *args, url=url, project=project_name)

    shown = get("-e", f"driver_id={DRIVERS[0]},424242", "-f", "driver_hourly_stats:city")
    assert shown.returncode == 0, shown.stderr
    header, first, missing = shown.stdout.splitlines()
    assert header.split() == ["driver_id", "driver_hourly_stats:city"]
    assert first.split() == [str(DRIVERS[0]), f"city-{DRIVERS[0] % 7}"]
    assert missing.split(maxsplit=1) == ["424242", "(not found)"]

    as_json = get("-e", f"driver_id={DRIVERS[1]}", "-s", "driver_activity", "--json")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["statuses"]["driver_hourly_stats:conv_rate"] == ["PRESENT"]

    unknown = get("-e", "driver_id=1", "-f", "driver_hourly_stats:nope")
    assert unknown.returncode == 1 and "driver_hourly_stats:nope" in unknown.stderr
    malformed = get("-e", "driver_id", "-f", "driver_hourly_stats:city")
    assert malformed.returncode == 2 and "JOIN_KEY=VALUE" in malformed.stderr
    neither = get("-e", "driver_id=1")
    assert neither.returncode == 2 and "--service" in neither.stderr


def test_a_broken_repo_is_one_clear_error_not_a_traceback(
    served: Server, project_name: str, tmp_path: Path
) -> None:
    url = served.url
    repo = tmp_path / "broken"
    repo.mkdir()
    (repo / "defs.py").write_text("from feast import Entity\ndriver = Entity(name=\n")
    failed = cli("apply", str(repo), url=url, project=project_name)
    assert failed.returncode == 1 and "was never closed" in failed.stderr
    assert "Traceback" not in failed.stderr
    # Loads, but the server refuses it: the source is outside its data roots.
    (repo / "defs.py").write_text(
        "from datetime import timedelta\n"
        "from feast import Entity, FeatureView, Field, FileSource\n"
        "from feast.types import Float32\n"
        "driver = Entity(name='driver', join_keys=['driver_id'])\n"
        "src = FileSource(path='/nonexistent/stats.parquet', timestamp_field='ts')\n"
        "view = FeatureView(name='v', entities=[driver], ttl=timedelta(hours=1),\n"
        "    schema=[Field(name='x', dtype=Float32)], source=src)\n"
    )
    refused = cli("apply", str(repo), url=url, project=project_name)
    assert refused.returncode == 1, refused.stderr
    assert "may not read '/nonexistent/stats.parquet'" in refused.stderr, refused.stderr[-2000:]
    assert "features.data_roots" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_model_traces_back_through_its_training_set_to_the_raw_files(  # type: ignore[no-untyped-def]
    client: TestClient, applied, project_name: str, repo: Path, now, tmp_path: Path
) -> None:
    """Training code uses the training set the server wrote: `use_dataset` finds that
    artifact (one fingerprint definition on both sides), so the model's upstream lineage
    runs training run -> training set -> `features historical` -> feature view -> source,
    whose URI is the raw Parquet file."""
    ours = mlledger.Client(
        "http://127.0.0.1:8080",
        project=project_name,
        spool_dir=tmp_path / "spool",
        transport=client._transport,
    )
    rows = pd.DataFrame(
        {"driver_id": DRIVERS, "event_timestamp": [now - timedelta(minutes=30)] * len(DRIVERS)}
    )
    training = ours.features.get_historical(
        rows, features=["driver_hourly_stats:conv_rate"], name="churn-train"
    )
    written = training.attrs["mlledger_artifact"]
    (tmp_path / "model.bin").write_bytes(b"weights")
    with ours.start_run("churn", capture_environment=False) as run:
        used = run.use_dataset(written["uri"])  # no name: the graph knows these bytes
        model = run.log_model("churn-model", path=tmp_path / "model.bin")
    assert (used.id, used.version) == (written["id"], written["version"])
    assert model.artifact.id is not None

    graph = client.get(
        f"/api/v1/lineage/artifact/{model.artifact.id}",
        params={"direction": "upstream", "depth": 10},
    ).json()
    names = {(n["type"], n["kind"], n["name"]) for n in graph["nodes"]}
    assert ("artifact", "dataset", "churn-train") in names
    assert ("execution", "other", "features historical") in names
    assert ("artifact", "feature_view", "driver_hourly_stats") in names
    source = next(n for n in graph["nodes"] if n["name"] == "source:driver_stats_source")
    raw = client.get(f"/api/v1/artifacts/{source['id'].split(':')[-1]}").json()
    assert raw["uri"] == (tmp_path / "driver_stats.parquet").as_uri()
    ours.close()
