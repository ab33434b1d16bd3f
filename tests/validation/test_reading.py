"""What a worker may read and which runners it uses are its own configuration: a dataset URI
outside its data roots fails before anything is opened, and a job cannot name a runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlledger.validation.reading import DataError, DataRoots, load_profiles


@pytest.fixture
def roots(tmp_path: Path) -> DataRoots:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ok.parquet").write_bytes(b"x")
    return DataRoots.of([str(tmp_path / "data"), "s3://bucket/team/"])


def test_paths_inside_the_roots_are_read(roots: DataRoots, tmp_path: Path) -> None:
    ok = tmp_path / "data" / "ok.parquet"
    assert roots.resolve(str(ok)) == os.path.realpath(ok)
    assert roots.resolve(ok.as_uri()) == os.path.realpath(ok)
    assert roots.resolve("s3://bucket/team/x/part-0.parquet") == "s3://bucket/team/x/part-0.parquet"


@pytest.mark.parametrize(
    "uri",
    [
        "/etc/passwd",
        "file:///etc/shadow",
        "file://otherhost/data/ok.parquet",
        "{data}/../secret.parquet",
        "file://{data}/../secret.parquet",
        "{data}x/ok.parquet",  # a sibling whose name starts like the root
        "s3://bucket/other/x.parquet",
        "s3://bucket/team/../other/x.parquet",
        "gs://bucket/team/x.parquet",
        "http://169.254.169.254/latest/meta-data",
        "{data}/ok.parquet?x=1",
    ],
)
def test_anything_else_is_refused_with_the_reason(
    roots: DataRoots, tmp_path: Path, uri: str
) -> None:
    data = str(tmp_path / "data")
    with pytest.raises(DataError, match="may not read"):
        roots.resolve(uri.format(data=data))


def test_a_symlink_out_of_a_root_is_refused(roots: DataRoots, tmp_path: Path) -> None:
    secret = tmp_path / "secret.parquet"
    secret.write_bytes(b"s")
    link = tmp_path / "data" / "link.parquet"
    link.symlink_to(secret)
    with pytest.raises(DataError, match="outside"):
        roots.resolve(str(link))
    folder = tmp_path / "data" / "log"
    folder.mkdir()
    (folder / "part.parquet").symlink_to(secret)  # inside a directory dataset, too
    with pytest.raises(DataError, match="links outside"):
        roots.resolve(str(folder))


def test_profiles_come_from_the_workers_file(tmp_path: Path) -> None:
    assert set(load_profiles(None)) == {"direct"}
    f = tmp_path / "profiles.toml"
    f.write_text('[profiles.flink]\nrunner = "FlinkRunner"\noptions = ["--flink_master=f:8081"]\n')
    profiles = load_profiles(f)
    assert profiles["flink"].runner == "FlinkRunner"
    assert profiles["flink"].options == ("--flink_master=f:8081",)
    assert profiles["direct"].runner == "DirectRunner"
    f.write_text('[profiles.bad]\nrunner = "x"\nenvironment = "PROCESS"\n')
    with pytest.raises(ValueError, match="unknown keys"):
        load_profiles(f)


def test_a_job_cannot_carry_a_runner_or_pipeline_options(client) -> None:  # type: ignore[no-untyped-def]
    made = client.post(
        "/api/v1/artifacts", json={"kind": "dataset", "name": "d", "uri": "file:///tmp/d.parquet"}
    ).json()
    for extra in (
        {"runner": "os.abort"},
        {"pipeline_args": ["--runner=PortableRunner", "--environment_type=PROCESS"]},
        {"profile": "../x"},
    ):
        r = client.post("/api/v1/validation/jobs", json={"dataset": made["id"], **extra})
        assert r.status_code == 422, r.text
        assert next(iter(extra)) in r.json()["error"]["message"]
    r = client.post("/api/v1/validation/jobs", json={"dataset": made["id"], "profile": "flink"})
    assert r.status_code == 202 and r.json()["profile"] == "flink"
    assert "runner" not in r.json()["options"]
