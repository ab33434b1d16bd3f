"""The embedded default: no Redis — Feast's SQLite online store under MLLEDGER_HOME, read
through Feast's SDK with the same TTL rule and the same answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from _support.feature_repo import DRIVERS, apply_repo
from _support.helpers import LocalClient

from mlledger.service.app import create_app
from mlledger.service.domain import features
from mlledger.service.domain.principal import Principal
from mlledger.service.settings import Settings
from mlledger.store.metadata import projects


def test_sqlite_online_store_with_ttl(
    db, database_url, principal, project_name, repo: Path, now, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        home=tmp_path / "embedded",
        features={"data_roots": [str(tmp_path)]},
    )
    app = create_app(settings, db=db)
    svc = app.state.features.get()
    assert svc.redis is None
    apply_repo(db, principal, svc, repo)
    features.materialize(
        db, principal, svc, start=now - timedelta(days=1), end=now + timedelta(seconds=1)
    )
    assert (tmp_path / "embedded" / "features" / "online.db").exists()
    with LocalClient(app, headers={"X-Mlledger-Project": project_name}) as client:
        r = client.post(
            "/api/v1/features/online",
            json={
                "features": ["driver_hourly_stats:city"],
                "entities": {"driver_id": [DRIVERS[0], 77]},
            },
        )
        assert r.status_code == 200, r.text
        city = r.json()["results"][1]
        assert city["statuses"] == ["PRESENT", "NOT_FOUND"]
        assert city["values"][0] == f"city-{DRIVERS[0] % 7}" and city["values"][1] is None
        assert city["event_timestamps"][1] is None

        # Values only up to 3 hours ago, TTL 2 hours: stale, so null and OUTSIDE_MAX_AGE.
        stale_settings = Settings(
            database_url=database_url,
            home=tmp_path / "stale",
            features={"data_roots": [str(tmp_path)]},
        )
        stale_app = create_app(stale_settings, db=db)
        stale_svc = stale_app.state.features.get()
        # Its own project: a fresh Feast project, so apply creates its online tables.
        with db.write() as session:
            other = projects.get_or_create_project(session, f"{project_name}-stale")
        who = Principal(other.id, other.name, "admin", "test")
        apply_repo(db, who, stale_svc, repo)
        features.materialize(
            db, who, stale_svc, start=now - timedelta(days=1), end=now - timedelta(hours=3)
        )
    with LocalClient(stale_app, headers={"X-Mlledger-Project": other.name}) as client:
        r = client.post(
            "/api/v1/features/online",
            json={
                "features": ["driver_hourly_stats:city"],
                "entities": {"driver_id": [DRIVERS[0]]},
            },
        )
        assert r.json()["results"][1]["statuses"] == ["OUTSIDE_MAX_AGE"]
        assert r.json()["results"][1]["values"] == [None]
