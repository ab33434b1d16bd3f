"""Projects whose names differ only in `-`, `_` or `.` are separate Feast projects: a token of
one never reads, pushes into or joins against another's features."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _support.feature_repo import apply_repo
from _support.helpers import LocalClient

from mlledger.service.domain import features
from mlledger.service.domain.principal import Principal
from mlledger.store.features.names import encode
from mlledger.store.metadata import projects


def test_the_mapping_is_injective_and_feast_valid() -> None:
    names = ["team-a", "team_a", "team.a", "team__a", "team_ha", "team-_a", "team_-a", "a.b-c_d"]
    encoded = [encode(n) for n in names]
    assert len(set(encoded)) == len(names)
    assert encode("plain42") == "plain42"  # letters and digits stand for themselves
    assert all(e.replace("_", "").isalnum() and not e.startswith("_") for e in encoded)
    with pytest.raises(ValueError):
        encode("a/b")


def test_a_name_taken_under_the_old_mapping_is_not_given_again(db) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:8]
    with db.write() as s:
        old = projects.get_or_create_project(s, f"old{tag}")
        new = projects.get_or_create_project(s, f"old{tag}")  # same row
        assert old.id == new.id
        legacy = projects.get_or_create_project(s, f"x-{tag}")
        newcomer = projects.get_or_create_project(s, f"x.{tag}")
    with db.write() as s:  # what migration 0005 records for a project with feature views
        from mlledger.store.tables import ProjectRow

        s.get(ProjectRow, legacy.id).feast_project = encode(f"x.{tag}")
    with db.write() as s:
        assert projects.feast_project(s, legacy.id) == encode(f"x.{tag}")
        assert projects.feast_project(s, newcomer.id) == f"{encode(f'x.{tag}')}_n{newcomer.id}"
        assert projects.feast_project(s, old.id) == f"old{tag}"


def test_look_alike_projects_do_not_share_features(  # type: ignore[no-untyped-def]
    db, app, repo: Path, now: datetime
) -> None:
    svc = app.state.features.get()
    tag = uuid.uuid4().hex[:8]
    names = [f"team-{tag}", f"team_{tag}", f"team.{tag}"]
    clients = []
    for i, name in enumerate(names):
        with db.write() as s:
            p = projects.get_or_create_project(s, name)
        who = Principal(p.id, p.name, "admin", "test")
        if i == 0:  # only the first applies and materializes anything
            apply_repo(db, who, svc, repo)
            features.materialize(
                db, who, svc, start=now - timedelta(days=1), end=now + timedelta(seconds=1)
            )
        clients.append(LocalClient(app, headers={"X-Mlledger-Project": name}))
    body = {"features": ["driver_hourly_stats:conv_rate"], "entities": {"driver_id": [1001]}}
    first = clients[0].post("/api/v1/features/online", json=body)
    assert first.status_code == 200 and first.json()["results"][0]["values"][0] is not None
    for other in clients[1:]:
        r = other.post("/api/v1/features/online", json=body)
        assert r.status_code in (400, 404), r.text  # no such view in that project
        push = other.post(
            "/api/v1/features/push",
            json={
                "push_source": "driver_stats_push",
                "rows": {
                    "driver_id": [1001],
                    "event_timestamp": [datetime.now(UTC).isoformat()],
                    "conv_rate": [0.0],
                },
            },
        )
        assert push.status_code in (400, 404), push.text
        assert other.get("/api/v1/features/views").json() == []
    again = clients[0].post("/api/v1/features/online", json=body).json()
    assert again["results"][0]["values"] == first.json()["results"][0]["values"]
