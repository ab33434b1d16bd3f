"""The sampled log of served feature vectors: what the online path answered, as Parquet."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _support.feature_repo import DRIVERS, apply_repo
from _support.helpers import LocalClient

from mlledger.service.app import create_app
from mlledger.service.settings import Settings
from mlledger.store.features import served
from mlledger.store.features.online import OnlineResult, Snapshot, ViewSpec


@pytest.fixture
def logging_app(database_url: str, services: dict[str, str], tmp_path: Path, db):  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=database_url,
        redis_url=services["redis"],
        home=tmp_path / "home",
        features={
            "served_sample_rate": 1.0,
            "served_flush_seconds": 3600,
            "data_roots": [str(tmp_path)],
        },
    )
    return create_app(settings, db=db)


def test_served_vectors_are_logged_and_written_on_shutdown(
    logging_app, db, principal, repo: Path, now, tmp_path: Path
) -> None:
    from mlledger.service.domain import features

    svc = logging_app.state.features.get()
    apply_repo(db, principal, svc, repo)
    features.materialize(
        db, principal, svc, start=now - timedelta(days=1), end=now + timedelta(seconds=1)
    )
    refs = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:city"]
    with LocalClient(logging_app, headers={"X-Mlledger-Project": principal.project_name}) as c:
        first = c.post(
            "/api/v1/features/online", json={"features": refs, "entities": {"driver_id": DRIVERS}}
        )
        assert first.status_code == 200
        c.post(
            "/api/v1/features/online",
            json={"features": refs[:1], "entities": {"driver_id": [424242]}},
        )
        assert served.read(svc.served.root, principal.project_name, "driver_hourly_stats") is None
    # Leaving the client shuts the app down: the buffer is written.
    table = served.read(tmp_path / "home" / "served", principal.project_name, "driver_hourly_stats")
    assert table is not None
    rows = table.to_pylist()
    assert [r["driver_id"] for r in rows] == [*DRIVERS, 424242]
    body = first.json()
    served_city = body["results"][body["metadata"]["feature_names"].index(refs[1])]["values"]
    assert [r["city"] for r in rows] == [*served_city, None]  # the second request lacked it
    assert rows[-1]["conv_rate"] is None  # NOT_FOUND is logged as null
    assert all(r["served_at"] is not None for r in rows)


def test_sampling_keeps_about_the_asked_share_and_survives_a_refusing_disk(tmp_path: Path) -> None:
    snap = Snapshot(
        "p",
        {"v": ViewSpec("v", ("k",), {"k": 4}, ("x",), 0.0)},
        {},
        0.0,
    )
    result = OnlineResult(["k", "v:x"], [[1], [0.5]], [["PRESENT"], ["PRESENT"]], [[None], [None]])
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the log wants a folder")
    log = served.ServedLog(blocked, 0.25, rng=random.Random(1))
    for _ in range(2000):
        log.offer("p", snap, result)
    assert log.flush() == []  # the disk refused: nothing written, nothing lost
    log.root = tmp_path / "ok"
    (path,) = log.flush()
    kept = pq.read_table(path).num_rows
    assert 400 < kept < 600  # ~25% of 2,000 requests
    assert served.read(log.root, "p", "v").num_rows == kept
    assert served.read(log.root, "p", "other") is None
    assert pa.types.is_timestamp(pq.read_schema(path).field("served_at").type)
    log.close()


def test_a_zero_rate_builds_no_log(settings: Settings, db) -> None:
    assert create_app(settings, db=db).state.features.get().served is None
