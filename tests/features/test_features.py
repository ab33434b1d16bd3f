"""The feature store end to end: apply, materialize, online (fast path vs Feast), TTL, push,
point-in-time training sets against a brute-force reference, lineage, bad requests."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import redis
from _support.feature_repo import DRIVERS, apply_repo, driver_frame, write_repo
from _support.helpers import LocalClient
from fastapi.testclient import TestClient

FEATURES = [
    "driver_hourly_stats:conv_rate",
    "driver_hourly_stats:avg_daily_trips",
    "driver_hourly_stats:city",
]


def online(client: TestClient, **body) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/features/online", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    return {
        name: res
        for name, res in zip(out["metadata"]["feature_names"], out["results"], strict=True)
    }


def test_online_values_equal_the_source(client: TestClient, applied, frame: pd.DataFrame) -> None:
    got = online(client, features=FEATURES, entities={"driver_id": [*DRIVERS, 424242]})
    latest = frame.sort_values("event_timestamp").groupby("driver_id").last()
    for i, d in enumerate(DRIVERS):
        assert got["driver_hourly_stats:conv_rate"]["values"][i] == float(
            np.float32(latest.loc[d, "conv_rate"])
        )
        assert (
            got["driver_hourly_stats:avg_daily_trips"]["values"][i]
            == latest.loc[d, "avg_daily_trips"]
        )
        assert got["driver_hourly_stats:city"]["values"][i] == latest.loc[d, "city"]
        assert got["driver_hourly_stats:city"]["statuses"][i] == "PRESENT"
        assert (
            pd.Timestamp(got["driver_hourly_stats:city"]["event_timestamps"][i])
            == latest.loc[d, "event_timestamp"]
        )
    assert got["driver_hourly_stats:city"]["values"][-1] is None
    assert got["driver_hourly_stats:city"]["statuses"][-1] == "NOT_FOUND"
    assert got["driver_id"]["values"] == [*DRIVERS, 424242]
    by_service = online(client, feature_service="driver_activity", entities={"driver_id": [1001]})
    assert by_service["driver_hourly_stats:acc_rate"]["statuses"] == ["PRESENT"]


def test_fast_path_agrees_with_feasts_sdk(db, svc, principal, applied, services) -> None:
    from mlledger.store.features import online as reads

    store = svc.store(db, principal)
    snap = svc.snapshot(store)
    refs = reads.resolve(snap, FEATURES, None)
    entities = {"driver_id": [1003, 1001, 99]}
    key = svc.generations.key(store.project)
    fast, generation = reads.read_redis(
        svc.redis, snap, refs, entities, max_entities=100, generation_key=key
    )
    assert svc.generations.of_reply(generation) == snap.generation is not None
    sdk = reads.read_feast(store, snap, refs, entities, max_entities=100)
    assert fast == sdk
    # A connection dropped while the read is in flight costs a retry, not an error.
    url = urlsplit(services["redis"])
    with _drops_first_read(url.hostname, url.port) as port:
        flaky = redis.Redis(host="127.0.0.1", port=port)
        again = reads.read_redis(flaky, snap, refs, entities, max_entities=100, generation_key=key)
        assert again == (fast, generation)
        flaky.close()


@contextmanager
def _drops_first_read(host: str, port: int) -> Iterator[int]:
    """A TCP proxy to Redis that hangs up on the first HMGET it sees (after the handshake)."""
    listener = socket.create_server(("127.0.0.1", 0))
    dropped = threading.Event()

    def pipe(src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if upstream and b"HMGET" in data and not dropped.is_set():
                    dropped.set()
                    break
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                upstream = socket.create_connection((host, port))
                threading.Thread(target=pipe, args=(conn, upstream, True), daemon=True).start()
                threading.Thread(target=pipe, args=(upstream, conn, False), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
        assert dropped.is_set()
    finally:
        listener.close()


def test_values_older_than_the_ttl_are_null_with_outside_max_age(
    client: TestClient, svc, principal, db, repo, now
) -> None:
    from mlledger.service.domain import features

    apply_repo(db, principal, svc, repo)
    # Only values at least 3 hours old reach the online store; the TTL is 2 hours.
    features.materialize(
        db, principal, svc, start=now - timedelta(days=1), end=now - timedelta(hours=3)
    )
    got = online(client, features=FEATURES, entities={"driver_id": DRIVERS})
    assert got["driver_hourly_stats:conv_rate"]["values"] == [None] * len(DRIVERS)
    assert got["driver_hourly_stats:conv_rate"]["statuses"] == ["OUTSIDE_MAX_AGE"] * len(DRIVERS)
    assert all(got["driver_hourly_stats:conv_rate"]["event_timestamps"])
    # Feast itself serves the stale value as if it were fresh (feast-dev/feast#1802, #6821).
    stale = (
        svc.store(db, principal)
        .get_online_features(features=FEATURES, entity_rows=[{"driver_id": 1001}])
        .to_dict()
    )
    assert stale["conv_rate"][0] is not None


def test_push_writes_fresh_values_online(client: TestClient, applied, now) -> None:
    r = client.post(
        "/api/v1/features/push",
        json={
            "push_source": "driver_stats_push",
            "rows": {
                "driver_id": [1001],
                "event_timestamp": [(now + timedelta(seconds=5)).isoformat()],
                "created": [(now + timedelta(seconds=5)).isoformat()],
                "conv_rate": [0.5],
                "acc_rate": [0.25],
                "avg_daily_trips": [7],
                "city": ["pushed"],
            },
        },
    )
    assert r.status_code == 200, r.text
    got = online(client, features=FEATURES, entities={"driver_id": [1001]})
    assert got["driver_hourly_stats:city"]["values"] == ["pushed"]
    assert got["driver_hourly_stats:avg_daily_trips"]["values"] == [7]


def brute_force(frame: pd.DataFrame, rows: pd.DataFrame, ttl: timedelta) -> list[float | None]:
    """For each row: the latest source value at or before its timestamp, within the TTL (both
    ends inclusive); among equal event times the latest `created`, then the latest in file."""
    out = []
    ordered = frame.reset_index(drop=True).reset_index(names="file_row")
    for _, row in rows.iterrows():
        candidates = ordered[
            (ordered.driver_id == row.driver_id)
            & (ordered.event_timestamp <= row.event_timestamp)
            & (ordered.event_timestamp >= row.event_timestamp - ttl)
        ]
        out.append(
            None
            if candidates.empty
            else float(
                candidates.sort_values(["event_timestamp", "created", "file_row"])
                .iloc[-1]
                .conv_rate
            )
        )
    return out


def test_both_offline_engines_match_the_brute_force_at_the_edges(
    db, principal, svc, tmp_path, now, caplog
) -> None:
    """DuckDB's ASOF JOIN (local Parquet) and Feast's offline store (the remote-source path)
    give the same training set: TTL bounds inclusive, ties broken by `created`."""
    from mlledger.store.features import offline

    base = driver_frame(DRIVERS, hours=6, end=now)
    tie = base.iloc[[0]].assign(conv_rate=0.125, created=base.created.iloc[0] + timedelta(1))
    stale_tie = base.iloc[[0]].assign(conv_rate=0.875, created=base.created.iloc[0] - timedelta(1))
    source = pd.concat([tie, base, stale_tie], ignore_index=True)
    repo = write_repo(tmp_path / "edges", source, ttl_hours=2)
    apply_repo(db, principal, svc, repo)
    first = base.iloc[0]
    rows = pd.DataFrame(
        {
            "driver_id": [first.driver_id, first.driver_id, first.driver_id, 1002, 9999],
            "event_timestamp": [
                first.event_timestamp,  # exactly at a value written twice: the later `created`
                first.event_timestamp + timedelta(hours=2),  # exactly the TTL later: still in
                first.event_timestamp + timedelta(hours=2, seconds=1),  # just past it: null
                now - timedelta(minutes=90),
                now,  # an unknown driver
            ],
        }
    )
    expected = brute_force(source, rows, timedelta(hours=2))
    assert expected[0] == 0.125 and expected[1] is not None and expected[2] is None
    store = svc.store(db, principal)
    refs = [("driver_hourly_stats", "conv_rate"), ("driver_hourly_stats", "city")]
    results = {}
    for engine in ("auto", "feast"):
        out = tmp_path / f"{engine}.parquet"
        caplog.clear()
        with caplog.at_level("INFO", logger=offline.__name__):
            offline.historical(store, rows, refs, out=out, engine=engine)
        assert ("through Feast" in caplog.text) == (engine == "feast")
        result = pq.read_table(out).to_pandas()
        assert list(result.driver_id) == list(rows.driver_id)
        assert [None if pd.isna(v) else float(v) for v in result.conv_rate] == expected, engine
        results[engine] = result
    pd.testing.assert_frame_equal(results["auto"], results["feast"], check_dtype=False)


def test_historical_is_point_in_time_correct_and_keeps_every_row(
    client: TestClient, applied, frame: pd.DataFrame, now
) -> None:
    rng = np.random.default_rng(7)
    n = 60
    rows = pd.DataFrame(
        {
            "driver_id": rng.choice([*DRIVERS, 5555], size=n),
            "event_timestamp": [
                now - timedelta(minutes=int(m)) for m in rng.integers(-30, 12 * 60, size=n)
            ],
            "label": rng.integers(0, 2, size=n),
        }
    )
    r = client.post(
        "/api/v1/features/historical",
        json={
            "features": ["driver_hourly_stats:conv_rate"],
            "entity_rows": {
                "driver_id": [int(d) for d in rows.driver_id],
                "event_timestamp": [t.isoformat() for t in rows.event_timestamp],
                "label": [int(x) for x in rows.label],
            },
            "name": "churn-training",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["rows"] == n and body["artifact"]["name"] == "churn-training"
    download = client.get(body["download"])
    assert download.status_code == 200
    path = body["artifact"]["uri"].removeprefix("file://")
    result = pq.read_table(path).to_pandas()
    assert len(result) == n
    assert list(result.driver_id) == list(rows.driver_id)  # input order, nothing dropped
    assert list(result.label) == list(rows.label)
    expected = brute_force(
        frame,
        rows.assign(event_timestamp=pd.to_datetime(rows.event_timestamp, utc=True)),
        timedelta(hours=2),
    )
    got = [None if pd.isna(v) else float(v) for v in result.conv_rate]
    assert got == expected
    assert None in expected  # some rows have no value inside the TTL, and are kept

    # The training set traces back to the feature view and its source file.
    up = client.get(
        f"/api/v1/lineage/artifact/{body['artifact']['id']}",
        params={"direction": "upstream", "depth": 10},
    ).json()
    names = {n.get("name") for n in up["nodes"]}
    assert {"driver_hourly_stats", "source:driver_stats_source"} <= names


def test_apply_records_versions_only_when_definitions_change(
    db, principal, svc, repo, client
) -> None:

    first = apply_repo(db, principal, svc, repo)
    assert first["execution_id"] is not None and first["feature_views"] == ["driver_hourly_stats"]
    assert apply_repo(db, principal, svc, repo)["execution_id"] is None
    text = (repo / "definitions.py").read_text().replace("timedelta(hours=2)", "timedelta(hours=5)")
    (repo / "definitions.py").write_text(text)
    assert apply_repo(db, principal, svc, repo)["execution_id"] is not None
    versions = client.get("/api/v1/artifacts", params={"name": "driver_hourly_stats"}).json()[
        "items"
    ]
    assert [a["version"] for a in versions] == [2, 1]
    assert versions[0]["properties"]["ttl_seconds"] == 5 * 3600
    views = client.get("/api/v1/features/views").json()
    assert views[0]["ttl_seconds"] == 5 * 3600


def test_bad_requests_name_the_problem(client: TestClient, applied) -> None:
    cases = [
        (
            {"features": ["driver_hourly_stats:nope"], "entities": {"driver_id": [1]}},
            404,
            "driver_hourly_stats:nope",
        ),
        ({"features": ["ghost:x"], "entities": {"driver_id": [1]}}, 404, "ghost:x"),
        ({"features": FEATURES, "entities": {"rider_id": [1]}}, 400, "driver_id"),
        ({"features": FEATURES, "entities": {"customer_id": [1]}}, 400, "customer_id is not"),
        ({"features": FEATURES, "entities": {"driver_id": ["1001"]}}, 400, "integers"),
        ({"feature_service": "nope", "entities": {"driver_id": [1]}}, 404, "nope"),
        (
            {
                "features": FEATURES,
                "feature_service": "driver_activity",
                "entities": {"driver_id": [1]},
            },
            422,
            "exactly one",
        ),
        ({"features": ["no-colon"], "entities": {"driver_id": [1]}}, 422, ""),
        ({"features": FEATURES, "entities": {"driver_id": []}}, 400, "entity rows"),
        ({"features": FEATURES, "entities": {"driver_id": [1.5]}}, 422, ""),
    ]
    for body, status, fragment in cases:
        r = client.post("/api/v1/features/online", json=body)
        assert r.status_code == status, (body, r.text)
        assert fragment in r.text
    # The online route is a bare Starlette route (the hot path): the framework's checks are its own.
    raw = [
        ({"content": b'{"features": ['}, 400, "malformed_json"),
        ({"content": b"[1, 2]"}, 422, "invalid_argument"),
        ({"json": {"features": FEATURES, "entities": {"driver_id": [1]}, "x": 1}}, 422, "x"),
        ({"json": {"features": FEATURES}}, 422, "entities"),
        (
            {"content": b"features=a", "headers": {"content-type": "text/plain"}},
            415,
            "text/plain",
        ),
        (
            {
                "json": {"features": FEATURES, "entities": {"driver_id": [1]}},
                "headers": {"x-mlledger-project": "no spaces"},
            },
            400,
            "X-Mlledger-Project",
        ),
        (
            {
                "json": {"features": FEATURES, "entities": {"driver_id": [1]}},
                "headers": {"authorization": "Basic abc"},
            },
            401,
            "Bearer",
        ),
        ({"content": b"{", "headers": {"authorization": "Basic abc"}}, 401, "Bearer"),  # first
    ]
    for kwargs, status, fragment in raw:
        r = client.post("/api/v1/features/online", **kwargs)
        assert r.status_code == status, (kwargs, r.text)
        assert r.json()["error"]["code"] and fragment in r.text, r.text
    assert client.get("/api/v1/features/online").status_code == 405
    merged = {"content": b'{"features": ["a:b"], "entities": {"driver_id": [1]}}'}
    assert client.post("/api/v1/features/online", **merged).status_code == 404  # no content-type
    push = client.post(
        "/api/v1/features/push", json={"push_source": "nope", "rows": {"driver_id": [1]}}
    )
    assert push.status_code == 404
    hist = client.post(
        "/api/v1/features/historical",
        json={
            "features": FEATURES,
            "entity_rows": {"rider_id": [1], "event_timestamp": ["2026-01-01"]},
        },
    )
    assert hist.status_code == 400 and "driver_id" in hist.text
    assert client.get("/api/v1/features/datasets/1").status_code == 404


def test_the_online_route_is_in_the_openapi_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/features/online"]["post"]
    assert op["operationId"] == "getOnlineFeatures"
    body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    online_in = spec["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert {"features", "feature_service", "entities"} <= set(online_in["properties"])
    assert {"200", "400", "404", "415", "422"} <= set(op["responses"])


def test_redis_cluster_serves_the_same_answer(
    database_url: str, services: dict[str, str], tmp_path, db, principal, repo, now
) -> None:
    """`features.redis_cluster`: Feast materializes into a three-node cluster and the fast path
    reads it by key slot; both agree with Feast's SDK, over HTTP too."""
    from mlledger.service.app import create_app
    from mlledger.service.domain import features
    from mlledger.service.settings import Settings
    from mlledger.store.features import online as reads

    settings = Settings(
        database_url=database_url,
        redis_url=services["redis_cluster"],
        home=tmp_path / "home",
        features={"redis_cluster": True, "data_roots": [str(tmp_path)]},
    )
    app = create_app(settings, db=db)
    svc = app.state.features.get()
    assert type(svc.redis).__name__ == "RedisCluster"
    apply_repo(db, principal, svc, repo)
    features.materialize(
        db, principal, svc, start=now - timedelta(days=1), end=now + timedelta(seconds=1)
    )
    store = svc.store(db, principal)
    snap = svc.snapshot(store)
    refs = reads.resolve(snap, FEATURES, None)
    entities = {"driver_id": [*DRIVERS, 99]}
    key = svc.generations.key(store.project)
    fast, _ = reads.read_redis(
        svc.redis, snap, refs, entities, max_entities=100, generation_key=key
    )
    assert fast == reads.read_feast(store, snap, refs, entities, max_entities=100)
    assert fast.statuses[-1] == ["PRESENT"] * len(DRIVERS) + ["NOT_FOUND"]
    # The entity hashes really are spread over the nodes.
    nodes = {svc.redis.get_node_from_key(k).port for k in svc.redis.scan_iter(count=1000)}
    assert len(nodes) > 1
    with LocalClient(app, headers={"X-Mlledger-Project": principal.project_name}) as client:
        got = online(client, features=FEATURES, entities=entities)
    assert got["driver_hourly_stats:city"]["values"] == fast.values[-1]
