"""Races on the endpoints that create by name: 100 clients at once, against a real server on
SQLite and Postgres. Exactly one creation wins; the others get the winner (200) or a 409;
never a 500, never a duplicate."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

CLIENTS = 100


def race(
    server, project: str, send: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    """`send` from CLIENTS clients, released together; every answer."""
    barrier = threading.Barrier(CLIENTS)

    def one(i: int) -> httpx.Response:
        with httpx.Client(
            base_url=f"{server.url}/api/v1", headers={"X-Mlledger-Project": project}, timeout=120
        ) as c:
            c.get("/health")  # connected before the start
            barrier.wait()
            return send(c, i)

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(one, range(CLIENTS)))
    errors = [r for r in answers if r.status_code >= 500]
    assert not errors, [(r.status_code, r.text[:200]) for r in errors[:3]]
    return answers


def statuses(answers: list[httpx.Response]) -> dict[int, int]:
    out: dict[int, int] = {}
    for r in answers:
        out[r.status_code] = out.get(r.status_code, 0) + 1
    return out


def test_one_context_per_name(server, project) -> None:  # type: ignore[no-untyped-def]
    answers = race(
        server, project, lambda c, _: c.post("/contexts", json={"kind": "experiment", "name": "x"})
    )
    assert statuses(answers).get(201) == 1 and set(statuses(answers)) <= {201, 409}
    ids = {r.json()["id"] for r in answers if r.status_code == 201}
    ids |= {r.json()["error"]["details"]["context_id"] for r in answers if r.status_code == 409}
    assert len(ids) == 1  # the losers are told which context won


def test_one_registered_model_per_name(server, project) -> None:  # type: ignore[no-untyped-def]
    answers = race(server, project, lambda c, _: c.post("/models", json={"name": "churn"}))
    assert statuses(answers).get(201) == 1 and set(statuses(answers)) <= {200, 201}
    assert len({r.json()["id"] for r in answers}) == 1


def test_the_first_gate_of_a_model(server, project, api) -> None:  # type: ignore[no-untyped-def]
    assert api.post("/models", json={"name": "m"}).status_code == 201
    gate = {"thresholds": [{"metric": "auc", "value_threshold": {"lower_bound": 0.5}}]}
    answers = race(server, project, lambda c, _: c.put("/models/m/gate", json=gate))
    assert set(statuses(answers)) == {200}
    # The same configuration 100 times is one revision (blessings against it stay valid).
    assert {r.json()["revision"] for r in answers} == {1}


def test_one_validation_job_per_dataset_version(server, project, api) -> None:  # type: ignore[no-untyped-def]
    made = api.post("/artifacts", json={"kind": "dataset", "name": "d", "uri": "/tmp/d.parquet"})
    dataset = made.json()["id"]
    answers = race(
        server, project, lambda c, _: c.post("/validation/jobs", json={"dataset": dataset})
    )
    assert statuses(answers).get(202) == 1 and set(statuses(answers)) <= {200, 202}
    assert len({r.json()["id"] for r in answers}) == 1


def test_one_run_per_uuid(server, project) -> None:  # type: ignore[no-untyped-def]
    run = uuid.uuid4().hex
    answers = race(
        server, project, lambda c, _: c.post("/runs", json={"uuid": run, "experiment": "e"})
    )
    assert statuses(answers).get(201) == 1 and set(statuses(answers)) <= {200, 201}
    assert len({r.json()["id"] for r in answers}) == 1


def test_model_versions_are_distinct(server, project, api) -> None:  # type: ignore[no-untyped-def]
    assert api.post("/models", json={"name": "v"}).status_code == 201
    answers = race(
        server,
        project,
        lambda c, i: c.post(
            "/models/v/versions", json={"artifact": {"kind": "model", "name": f"m{i}"}}
        ),
    )
    assert set(statuses(answers)) == {201}
    assert sorted(r.json()["version"] for r in answers) == list(range(1, CLIENTS + 1))


def test_an_alias_moves_once_by_compare_and_set(server, project, api) -> None:  # type: ignore[no-untyped-def]
    assert api.post("/models", json={"name": "a"}).status_code == 201
    for i in range(2):
        body = {"artifact": {"kind": "model", "name": f"a{i}"}}
        assert api.post("/models/a/versions", json=body).status_code == 201
    assert api.put("/models/a/aliases/staging", json={"version": 1}).status_code == 200
    answers = race(
        server,
        project,
        lambda c, _: c.put("/models/a/aliases/staging", json={"version": 2, "expected_version": 1}),
    )
    assert statuses(answers).get(200) == 1 and set(statuses(answers)) <= {200, 409}


def test_a_new_project_is_made_once(server) -> None:  # type: ignore[no-untyped-def]
    fresh = f"race-{uuid.uuid4().hex[:8]}"
    answers = race(server, fresh, lambda c, _: c.get("/artifacts"))
    assert set(statuses(answers)) == {200}


def test_artifact_versions_of_one_name(server, project) -> None:  # type: ignore[no-untyped-def]
    answers = race(
        server, project, lambda c, _: c.post("/artifacts", json={"kind": "dataset", "name": "same"})
    )
    assert set(statuses(answers)) == {201}
    assert sorted(r.json()["version"] for r in answers) == list(range(1, CLIENTS + 1))


def test_one_artifact_per_fingerprint(server, project) -> None:  # type: ignore[no-untyped-def]
    answers = race(
        server,
        project,
        lambda c, _: c.post(
            "/artifacts", json={"kind": "dataset", "name": "fp", "fingerprint": "sha:1"}
        ),
    )
    assert set(statuses(answers)) <= {200, 201} and statuses(answers).get(201) == 1
    assert len({r.json()["id"] for r in answers}) == 1


def test_executions_creating_one_context_by_name(server, project) -> None:  # type: ignore[no-untyped-def]
    def send(c: httpx.Client, i: int) -> httpx.Response:
        return c.post(
            "/executions",
            json={
                "kind": "run",
                "name": f"r{i}",
                "outputs": [{"artifact": {"kind": "model", "name": "out"}}],
                "contexts": [{"kind": "pipeline", "name": "nightly"}],
            },
        )

    answers = race(server, project, send)
    assert set(statuses(answers)) == {201}
    ids: set[Any] = {c["id"] for r in answers for c in r.json()["contexts"]}
    assert len(ids) == 1


@pytest.mark.slow
def test_one_feature_apply_at_a_time(server, project, api) -> None:  # type: ignore[no-untyped-def]
    """The same Feast definitions applied by 100 callers at once: every apply answers 200, the
    lineage records ONE `features apply` execution (the rest find nothing changed), and the
    views are there — nothing half-written in the shared registry."""
    from pathlib import Path

    from _support.feature_repo import DRIVERS, driver_frame, write_repo

    from mlledger.client.feast_repo import registry_of

    folder = Path(server.cwd) / f"race-{uuid.uuid4().hex[:8]}"  # under its data roots
    registry = registry_of(write_repo(folder, driver_frame(DRIVERS, 2, datetime.now(UTC))))
    answers = race(
        server, project, lambda c, _: c.put("/features/definitions", json={"registry": registry})
    )
    assert statuses(answers) == {200: CLIENTS}
    recorded = [r.json()["execution_id"] for r in answers if r.json()["execution_id"]]
    assert len(recorded) == 1, recorded
    assert [v["name"] for v in api.get("/features/views").json()] == ["driver_hourly_stats"]
