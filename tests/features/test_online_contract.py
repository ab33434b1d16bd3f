"""One contract, every online backend: the embedded default's SQLite (through Feast's SDK),
Redis and Redis Cluster (the fast path) give the same answers to the same requests — values,
statuses (PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE), errors — and see an apply at once."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _support.feature_repo import DRIVERS, driver_frame, write_repo
from _support.helpers import LocalClient

from mlledger.client.feast_repo import registry_of
from mlledger.service.app import create_app
from mlledger.service.settings import Settings

FEATURES = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:city"]


@pytest.fixture(params=["sqlite", "redis", "redis_cluster"])
def backend(request, database_url: str, services, db, tmp_path: Path, project_name: str, now):  # type: ignore[no-untyped-def]
    """A client of an app on the backend, its project applied and materialized, and the
    source frame."""
    kind = request.param
    settings = Settings(
        database_url=database_url,
        redis_url=None if kind == "sqlite" else services[kind],
        home=tmp_path / "home",
        features={"data_roots": [str(tmp_path)], "redis_cluster": kind == "redis_cluster"},
    )
    frame = driver_frame(DRIVERS, hours=6, end=now)
    repo = write_repo(tmp_path, frame, ttl_hours=2)
    app = create_app(settings, db=db)
    with LocalClient(app, headers={"X-Mlledger-Project": project_name}) as client:
        applied = client.put("/api/v1/features/definitions", json={"registry": registry_of(repo)})
        assert applied.status_code == 200, applied.text
        window = {
            "start": (now - timedelta(days=1)).isoformat(),
            "end": (now + timedelta(seconds=1)).isoformat(),
        }
        assert client.post("/api/v1/features/materialize", json=window).status_code == 200
        yield kind, client, frame, repo, app


def read(client: Any, **body: Any) -> Any:
    return client.post("/api/v1/features/online", json=body)


def columns(answer: Any) -> dict[str, dict[str, list[Any]]]:
    out = answer.json()
    return dict(zip(out["metadata"]["feature_names"], out["results"], strict=True))


def test_values_and_statuses(backend) -> None:  # type: ignore[no-untyped-def]
    _, client, frame, _, _ = backend
    got = columns(read(client, features=FEATURES, entities={"driver_id": [*DRIVERS, 424242]}))
    latest = frame.sort_values("event_timestamp").groupby("driver_id").last()
    city = got["driver_hourly_stats:city"]
    assert city["values"] == [*(latest.loc[d, "city"] for d in DRIVERS), None]
    assert city["statuses"] == ["PRESENT"] * len(DRIVERS) + ["NOT_FOUND"]
    assert city["event_timestamps"][-1] is None
    stamp = pd.Timestamp(city["event_timestamps"][0])
    assert stamp == latest.loc[DRIVERS[0], "event_timestamp"]
    conv = got["driver_hourly_stats:conv_rate"]["values"]
    assert conv[:-1] == pytest.approx([latest.loc[d, "conv_rate"] for d in DRIVERS], rel=1e-6)
    assert got["driver_id"]["values"] == [*DRIVERS, 424242]
    service = columns(
        read(client, feature_service="driver_activity", entities={"driver_id": [1001]})
    )
    assert service["driver_hourly_stats:acc_rate"]["statuses"] == ["PRESENT"]


def test_values_older_than_the_ttl_are_outside_max_age(  # type: ignore[no-untyped-def]
    backend, project_name: str, now
) -> None:
    _, _, _, repo, app = backend
    headers = {"X-Mlledger-Project": f"{project_name}-stale"}
    with LocalClient(app, headers=headers) as stale:
        assert (
            stale.put(
                "/api/v1/features/definitions", json={"registry": registry_of(repo)}
            ).status_code
            == 200
        )
        window = {
            "start": (now - timedelta(days=1)).isoformat(),
            "end": (now - timedelta(hours=3)).isoformat(),  # newest value 3 h old, TTL 2 h
        }
        assert stale.post("/api/v1/features/materialize", json=window).status_code == 200
        city = columns(read(stale, features=FEATURES, entities={"driver_id": DRIVERS[:2]}))[
            "driver_hourly_stats:city"
        ]
    assert city["statuses"] == ["OUTSIDE_MAX_AGE"] * 2 and city["values"] == [None, None]
    assert all(ts is not None for ts in city["event_timestamps"])


BAD = [
    ({"driver_id": ["1001"]}, 400, "takes integers"),
    ({"driver_id": [2**63]}, 400, "out of range"),
    ({"rider_id": [1]}, 400, "missing entity keys: driver_id"),
    ({"driver_id": [1], "rider_id": [1]}, 400, "rider_id"),
    ({"driver_id": list(range(1001))}, 400, "between 1 and 1000"),
]


@pytest.mark.parametrize(("entities", "status", "words"), BAD)
def test_bad_requests_are_named_the_same_way(backend, entities, status, words) -> None:  # type: ignore[no-untyped-def]
    _, client, _, _, _ = backend
    r = read(client, features=FEATURES, entities=entities)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"]
    unknown = read(client, features=["driver_hourly_stats:nope"], entities={"driver_id": [1]})
    assert unknown.status_code == 404 and "driver_hourly_stats:nope" in unknown.text


def test_an_apply_is_seen_on_the_next_read(backend, db, project_name: str) -> None:  # type: ignore[no-untyped-def]
    kind, client, _, repo, app = backend
    body = {"features": FEATURES, "entities": {"driver_id": DRIVERS[:1]}}
    assert read(client, **body).status_code == 200  # the snapshot is cached now
    fewer = copy.deepcopy(registry_of(repo))
    for view in fewer["featureViews"]:
        view["spec"]["features"] = [f for f in view["spec"]["features"] if f["name"] != "city"]
    # Another process of the same service applies: a second app is one.
    settings = app.state.settings
    with LocalClient(create_app(settings, db=db), headers=client.headers) as other:
        assert (
            other.put("/api/v1/features/definitions", json={"registry": fewer}).status_code == 200
        )
    gone = read(client, **body)
    assert gone.status_code == 404, (kind, gone.text)
