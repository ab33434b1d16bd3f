"""Data gates end to end: a real server, real workers running TFDV in the validator
environment, real Parquet and CSV files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from _support.cli import Completed
from _support.cli import mlledger as mlledger_cli
from _support.customers import frame


def kinds(gate: dict) -> dict[str | None, str]:  # type: ignore[type-arg]
    found: dict[str | None, str] = {}
    for r in gate["reasons"]:
        found[r["feature"]] = f"{found.get(r['feature'], '')} {r['kind']}".strip()
    return found


def test_versions_of_a_dataset_pass_or_fail_with_readable_reasons(
    tmp_path: Path, api: httpx.Client, workers, log_dataset, verdict
) -> None:
    workers.start()
    drift = {"drift": {"default": 0.25}}

    def version(df: pd.DataFrame, label: str) -> dict:  # type: ignore[type-arg]
        path = tmp_path / f"{label}.parquet"
        df.to_parquet(path)
        return log_dataset("customers", path)

    v1 = version(frame(seed=1), "v1")
    first = verdict(v1["id"], **drift)
    assert first["status"] == "passed", first
    # First sight: a schema was inferred, and statistics, anomalies and schema are artifacts
    # produced by the validation execution, which read the dataset.
    schema = api.get(f"/artifacts/{first['schema_id']}").json()
    assert schema["name"] == "customers.schema" and schema["properties"]["origin"] == "inferred"
    run = api.get(f"/executions/{first['job']['execution_id']}").json()
    assert run["kind"] == "validation"
    assert {e["artifact"]["id"] for e in run["inputs"]} == {v1["id"]}
    assert {e["artifact"]["kind"] for e in run["outputs"]} == {"statistics", "anomalies", "schema"}
    stats = api.get(f"/artifacts/{first['statistics_id']}/content", params={"format": "json"})
    assert stats.status_code == 200
    features = {f["path"]["step"][0] for f in stats.json()["datasets"][0]["features"]}
    assert features == {"age", "country", "clicks"}

    clean = verdict(version(frame(seed=2), "v2")["id"], **drift)
    assert clean["status"] == "passed", clean["reasons"]

    missing = verdict(version(frame(seed=3).drop(columns=["clicks"]), "v3")["id"], **drift)
    assert missing["status"] == "failed"
    assert "SCHEMA_MISSING_COLUMN" in kinds(missing)["clicks"]

    odd = verdict(version(frame(seed=4, countries=("DE", "FR", "XX")), "v4")["id"], **drift)
    assert odd["status"] == "failed"
    assert "ENUM_TYPE_UNEXPECTED_STRING_VALUES" in kinds(odd)["country"]
    assert any("XX" in r["message"] for r in odd["reasons"])

    shifted = verdict(version(frame(seed=5, shift=25), "v5")["id"], **drift)
    assert shifted["status"] == "failed", shifted
    assert "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH" in kinds(shifted)["age"]


def test_skew_against_a_served_feature_log(
    tmp_path: Path, api: httpx.Client, workers, log_dataset, verdict
) -> None:  # type: ignore[no-untyped-def]
    """Serving data as the served-vector log writes it: a directory of Parquet files per day
    (`date=…` partitions, a `served_at` column); skew is measured against it per feature."""
    workers.start()

    def served_log(name: str, shift: float) -> dict:  # type: ignore[type-arg]
        root = tmp_path / name
        for day, seed in (("2026-11-22", 7), ("2026-11-23", 8)):
            (root / f"date={day}").mkdir(parents=True)
            df = frame(seed=seed, shift=shift)
            df["served_at"] = pd.Timestamp(f"{day}T12:00:00Z")
            df.to_parquet(root / f"date={day}" / "part-0.parquet")
        return log_dataset(f"served.{name}", root)

    for name, shift, status in (("clean", 0.0, "passed"), ("shifted", 25.0, "failed")):
        path = tmp_path / f"train-{name}.parquet"
        frame(seed=1).to_parquet(path)
        train = log_dataset(f"train-{name}", path)
        serving = served_log(name, shift)
        gate = verdict(train["id"], serving_dataset=serving["id"], skew={"default": 0.1})
        assert gate["status"] == status, gate["reasons"]
        if status == "failed":
            assert "COMPARATOR" in kinds(gate)["age"], gate["reasons"]
            assert "country" not in kinds(gate)  # same categories, same shares: no skew
        execution = api.get(f"/executions/{gate['job']['execution_id']}").json()
        roles = {e["role"]: e["artifact"]["id"] for e in execution["inputs"]}
        assert roles["dataset"] == train["id"] and roles["serving"] == serving["id"]


def test_unreadable_data_gets_a_clear_error_and_csv_and_beam_work(
    tmp_path: Path, api: httpx.Client, workers, log_dataset, verdict
) -> None:
    workers.start()
    empty = tmp_path / "empty.parquet"
    frame().iloc[:0].to_parquet(empty)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet at all")
    gone = tmp_path / "gone.parquet"
    # Outside the workers' data root (the temp folder): refused before anything is opened.
    outside = Path("/etc/hostname")

    for path, words in (
        (empty, "has no rows"),
        (corrupt, "not a readable parquet"),
        (gone, "no such file"),
        (outside, "may not read"),
    ):
        gate = verdict(log_dataset(path.stem, path)["id"])
        assert gate["status"] == "error", gate
        assert words in gate["reasons"][0]["message"], gate
        assert gate["job"]["state"] == "failed" and words in gate["job"]["error"]

    csv = tmp_path / "data.csv"
    frame().to_csv(csv, index=False)
    as_csv = verdict(log_dataset("as-csv", csv, "csv")["id"], environment="SERVING")
    assert as_csv["status"] == "passed", as_csv
    beam = tmp_path / "beam.parquet"
    frame(seed=9).to_parquet(beam)
    by_beam = verdict(log_dataset("by-beam", beam)["id"], beam=True)
    assert by_beam["status"] == "passed", by_beam
    assert by_beam["job"]["options"]["beam"] is True
    # A profile no worker has waits for one that has it; nothing of the job picks a runner.
    r = api.post(
        "/validation/jobs", json={"dataset": log_dataset("later", beam)["id"], "profile": "flink"}
    )
    assert r.status_code == 202 and r.json()["profile"] == "flink"
    time.sleep(2)
    assert api.get(f"/validation/jobs/{r.json()['id']}").json()["state"] == "queued"


def test_a_curated_schema_is_used_next_and_diffed_against_the_inferred_one(
    tmp_path: Path, api: httpx.Client, workers, log_dataset, verdict
) -> None:
    workers.start()
    path = tmp_path / "v1.parquet"
    frame(seed=1).to_parquet(path)
    first = verdict(log_dataset("orders", path)["id"])
    assert first["status"] == "passed"
    inferred = api.get(f"/artifacts/{first['schema_id']}/content", params={"format": "json"}).json()
    # The curator allows a fourth country (TFDV keeps string domains at the top level).
    (country,) = [f for f in inferred["feature"] if f["name"] == "country"]
    (domain,) = [d for d in inferred["string_domain"] if d["name"] == country["domain"]]
    domain["value"].append("XX")
    up = api.put(
        "/datasets/orders/schema",
        content=httpx.Request("PUT", "/", json=inferred).content,
        headers={"content-type": "application/json"},
    )
    assert up.status_code == 201, up.text
    assert up.json()["version"] == 2 and up.json()["properties"]["origin"] == "curated"
    diff = api.get("/datasets/orders/schema/diff").json()
    assert diff["base"]["version"] == 1 and diff["head"]["version"] == 2
    assert diff["changes"] == [
        {
            "string_domain": country["domain"],
            "change": "changed",
            "added_values": ["XX"],
            "removed_values": [],
        }
    ]

    path2 = tmp_path / "v2.parquet"
    frame(seed=4, countries=("DE", "FR", "XX")).to_parquet(path2)
    second = verdict(log_dataset("orders", path2)["id"])
    assert second["status"] == "passed", second["reasons"]
    assert second["schema_id"] == up.json()["id"]

    bad = api.put(
        "/datasets/orders/schema",
        content=b"feature { nonsense",
        headers={"content-type": "text/plain"},
    )
    assert bad.status_code == 400 and "Schema" in bad.json()["error"]["message"]
    unknown = api.put(
        "/datasets/nope/schema",
        content=b"feature { name: 'a' }",
        headers={"content-type": "text/plain"},
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    "body, words",
    [
        ({}, "dataset"),
        ({"dataset": "no-such-dataset"}, "does not exist"),
        ({"dataset": 1, "drift": {"default": 7}}, "drift"),
        ({"dataset": 1, "environment": "PROD"}, "environment"),
        ({"dataset": 2**70}, "dataset"),
        ({"dataset": "customers:99999999999"}, "out of range"),
    ],
)
def test_bad_validation_requests_name_the_problem(api: httpx.Client, body, words) -> None:  # type: ignore[no-untyped-def]
    r = api.post("/validation/jobs", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert words in r.text
    huge = api.get(f"/datasets/{10**30}/gate")
    assert huge.status_code == 404 and "does not exist" in huge.text


def test_gate_data_speaks_ci(tmp_path: Path, server, project: str, workers, log_dataset) -> None:  # type: ignore[no-untyped-def]
    """`mlledger gate data`: exit 0 passed / 1 blocked / 2 error, JSON, JUnit and the GitHub
    step summary; the validation is requested when none ran yet."""
    summary = tmp_path / "summary.md"

    def gate(*args: str, url: str | None = None) -> Completed:
        env = {
            "MLLEDGER_URL": url or server.url,
            "MLLEDGER_PROJECT": project,
            "GITHUB_STEP_SUMMARY": str(summary),
        }
        return mlledger_cli("gate", "data", *args, env=env)

    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    frame(seed=1).to_parquet(good)
    frame(seed=2).drop(columns=["clicks"]).to_parquet(bad)
    log_dataset("gated", good)

    pending = gate("--dataset", "gated:1")  # no worker yet: requested, not decided
    assert pending.returncode == 1 and "has not finished" in pending.stdout
    late = gate("--dataset", "gated:1", "--wait", "--timeout", "1")
    assert late.returncode == 2 and "no verdict" in late.stderr

    workers.start()
    junit = tmp_path / "gate.xml"
    passed = gate("--dataset", "gated:1", "--wait", "--format", "json", "--junit", str(junit))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert json.loads(passed.stdout)["status"] == "passed"
    assert 'failures="0"' in junit.read_text()

    log_dataset("gated", bad)
    blocked = gate("--dataset", "gated", "--wait", "--junit", str(junit))
    assert blocked.returncode == 1
    assert "data gate gated:2: FAILED" in blocked.stdout
    assert "clicks: SCHEMA_MISSING_COLUMN" in blocked.stdout
    assert 'failures="1"' in junit.read_text() and "SCHEMA_MISSING_COLUMN" in junit.read_text()
    text = summary.read_text()
    assert "✅ data gate gated:1: passed" in text and "❌ data gate gated:2: failed" in text

    unknown = gate("--dataset", "nope")
    assert unknown.returncode == 2 and "does not exist" in unknown.stderr
    down = gate("--dataset", "gated", url="http://127.0.0.1:9")
    assert down.returncode == 2 and "error:" in down.stderr
    assert gate().returncode == 2  # --dataset is required
