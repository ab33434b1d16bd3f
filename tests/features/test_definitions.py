"""Feature definitions over HTTP (`PUT /features/definitions`, `POST /features/materialize`):
what a caller may send, what is refused by name, and that every process of the service sees an
apply from its next request — with Redis (the generation rides in the online read's round
trip) and in the embedded default (a file's identity)."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _support.feature_repo import DRIVERS, write_repo
from _support.helpers import LocalClient

from mlledger.client.feast_repo import registry_of
from mlledger.service.app import create_app
from mlledger.service.settings import Settings

CITY = "driver_hourly_stats:city"


def put(client: Any, registry: dict[str, Any]) -> Any:
    return client.put("/api/v1/features/definitions", json={"registry": registry})


@pytest.fixture
def registry(repo: Path) -> dict[str, Any]:
    return registry_of(repo)


@pytest.mark.parametrize("online_store", ["redis", "embedded"])
def test_every_process_sees_an_apply_at_once(  # type: ignore[no-untyped-def]
    online_store: str, database_url: str, services, db, project_name: str, tmp_path: Path, now
) -> None:
    """Two apps on one database, online store and home are two service processes: after one
    applies, the other lists, serves and refuses by the new definitions on its next request,
    with no wait for a cache to expire (registry_cache_seconds is an hour here)."""
    settings = Settings(
        database_url=database_url,
        redis_url=services["redis"] if online_store == "redis" else None,
        home=tmp_path / "home",
        features={"data_roots": [str(tmp_path)], "registry_cache_seconds": 3600},
    )
    frame_repo = write_repo(tmp_path, _frame(now))
    headers = {"X-Mlledger-Project": project_name}
    with (
        LocalClient(create_app(settings, db=db), headers=headers) as one,
        LocalClient(create_app(settings, db=db), headers=headers) as other,
    ):
        assert one.get("/api/v1/features/views").json() == []
        assert other.get("/api/v1/features/views").json() == []  # both have looked
        registry = registry_of(frame_repo)
        applied = put(one, registry)
        assert applied.status_code == 200, applied.text
        assert applied.json()["feature_views"] == ["driver_hourly_stats"]
        assert applied.json()["execution_id"] is not None
        assert [v["name"] for v in other.get("/api/v1/features/views").json()] == [
            "driver_hourly_stats"
        ]
        window = {
            "start": (now - timedelta(days=1)).isoformat(),
            "end": (now + timedelta(seconds=1)).isoformat(),
        }
        done = other.post("/api/v1/features/materialize", json=window)
        assert done.status_code == 200, done.text
        assert done.json()["feature_views"] == ["driver_hourly_stats"]
        body = {"features": [CITY], "entities": {"driver_id": DRIVERS[:2]}}
        first = one.post("/api/v1/features/online", json=body)
        assert first.json()["results"][1]["statuses"] == ["PRESENT", "PRESENT"]

        # The other process drops `city`: the first one refuses it on its very next read.
        fewer = copy.deepcopy(registry)
        for view in fewer["featureViews"]:
            view["spec"]["features"] = [f for f in view["spec"]["features"] if f["name"] != "city"]
        assert put(other, fewer).status_code == 200
        gone = one.post("/api/v1/features/online", json=body)
        assert gone.status_code == 404, gone.text
        assert CITY in gone.json()["error"]["message"]
        assert "city" not in one.get("/api/v1/features/views").json()[0]["features"]

        # Applying the same definitions again changes nothing, and says so.
        again = put(one, fewer)
        assert again.status_code == 200 and again.json()["execution_id"] is None


def _frame(now):  # type: ignore[no-untyped-def]
    from _support.feature_repo import driver_frame

    return driver_frame(DRIVERS, hours=6, end=now)


def test_the_project_is_the_callers_whatever_the_definitions_say(  # type: ignore[no-untyped-def]
    client, registry: dict[str, Any], db, app
) -> None:
    for kind in ("entities", "featureViews", "featureServices"):
        for item in registry.get(kind, []):
            item["spec"]["project"] = "someone-else"
    for source in registry.get("dataSources", []):
        source["project"] = "someone-else"
    assert put(client, registry).status_code == 200
    names = [v["name"] for v in client.get("/api/v1/features/views").json()]
    assert names == ["driver_hourly_stats"]


def _with(registry: dict[str, Any], change: Any) -> dict[str, Any]:
    bad = copy.deepcopy(registry)
    change(bad)
    return bad


def _file_source(registry: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in registry["dataSources"] if s["type"] == "BATCH_FILE")


def _custom(source: dict[str, Any]) -> None:
    source.pop("fileOptions")
    source.update(type="CUSTOM_SOURCE", dataSourceClassType="os.system", customOptions={})


def _view(registry: dict[str, Any]) -> dict[str, Any]:
    return registry["featureViews"][0]["spec"]  # type: ignore[no-any-return]


REFUSED = {
    "on-demand views carry code": (
        lambda r: r.update(onDemandFeatureViews=[{"spec": {"name": "odfv"}}]),
        "onDemandFeatureViews|on_demand_feature_views",
    ),
    "stream views carry code": (
        lambda r: r.update(streamFeatureViews=[{"spec": {"name": "sfv"}}]),
        "stream_feature_views",
    ),
    "a transformation is pickled Python": (
        lambda r: _view(r).update(
            featureTransformation={"userDefinedFunction": {"name": "f", "body": "Z2FkZ2V0"}}
        ),
        "carry code",
    ),
    "a custom source names a class to import": (
        lambda r: _custom(_file_source(r)),
        "CUSTOM_SOURCE source",
    ),
    "a BigQuery source is not this server's": (
        lambda r: _file_source(r).update(type="BATCH_BIGQUERY"),
        "BATCH_BIGQUERY",
    ),
    "an endpoint override would connect anywhere": (
        lambda r: _file_source(r)["fileOptions"].update(s3EndpointOverride="http://10.0.0.1"),
        "s3_endpoint_override",
    ),
    "a file outside the data roots": (
        lambda r: _file_source(r)["fileOptions"].update(uri="/etc/passwd"),
        "may not read '/etc/passwd'",
    ),
    "a link out of the data roots is followed": (
        lambda r: _file_source(r)["fileOptions"].update(uri="LINK"),
        "outside the data roots",
    ),
    "a relative path": (
        lambda r: _file_source(r)["fileOptions"].update(uri="data/stats.parquet"),
        "is relative",
    ),
    "a feature name that breaks references": (
        lambda r: _view(r)["features"][0].update(name="conv:rate"),
        "without ':'",
    ),
    "feature logging writes files": (
        lambda r: r["featureServices"][0]["spec"].update(
            loggingConfig={"sampleRate": 1.0, "fileDestination": {"path": "/tmp/x"}}
        ),
        "logging_config",
    ),
    "not a Registry": (lambda r: r.update(noSuchField=1), "not Feast's Registry"),
    "a wrong type": (lambda r: r.update(entities="x"), "not Feast's Registry"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_definitions_that_carry_code_or_reach_out_are_refused_by_name(  # type: ignore[no-untyped-def]
    case: str, client, registry: dict[str, Any], tmp_path: Path
) -> None:
    change, words = REFUSED[case]
    link = tmp_path / "link.parquet"
    link.symlink_to("/etc/passwd")
    bad = _with(registry, change)
    for source in bad.get("dataSources", []):
        if source.get("fileOptions", {}).get("uri") == "LINK":
            source["fileOptions"]["uri"] = str(link)
    for view in bad.get("featureViews", []):  # the view carries its own copy of the source
        batch = view["spec"].get("batchSource", {})
        for inner in (batch, batch.get("batchSource", {})):
            if inner.get("fileOptions", {}).get("uri") == "LINK":
                inner["fileOptions"]["uri"] = str(link)
    r = put(client, bad)
    assert r.status_code in (400, 422), r.text
    assert any(w in r.json()["error"]["message"] for w in words.split("|")), r.json()["error"][
        "message"
    ]
    assert client.get("/api/v1/features/views").json() == []  # nothing half-applied


def test_a_deeply_nested_registry_is_refused_not_recursed(client) -> None:  # type: ignore[no-untyped-def]
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(200):
        inner["batchSource"] = {}
        inner = inner["batchSource"]
    r = put(client, {"dataSources": [deep]})
    assert r.status_code == 422 and "nested deeper" in r.text


MATERIALIZE = [
    ({}, 422, "either start"),
    ({"incremental": True, "start": "2026-01-01T00:00:00Z"}, 422, "either start"),
    ({"start": "1900-01-01T00:00:00Z"}, 422, "start"),
    ({"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, 400, "before end"),
    ({"incremental": True, "views": ["nope"]}, 404, "nope"),
    ({"incremental": True, "views": ["a", "a"]}, 422, "twice"),
]


@pytest.mark.parametrize(("body", "status", "words"), MATERIALIZE)
def test_materialize_names_what_is_wrong(  # type: ignore[no-untyped-def]
    body, status: int, words: str, client, registry: dict[str, Any]
) -> None:
    assert put(client, registry).status_code == 200
    r = client.post("/api/v1/features/materialize", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"]


def test_materialize_of_a_source_that_is_gone_is_a_conflict_not_a_crash(  # type: ignore[no-untyped-def]
    client, registry: dict[str, Any], tmp_path: Path
) -> None:
    assert put(client, registry).status_code == 200
    (tmp_path / "driver_stats.parquet").unlink()
    r = client.post(
        "/api/v1/features/materialize",
        json={"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
    )
    assert r.status_code == 409, r.text
    assert "reading the sources" in r.json()["error"]["message"]


def test_writing_definitions_needs_write_scope(app, registry: dict[str, Any], db) -> None:  # type: ignore[no-untyped-def]
    from mlledger.service.domain import tokens

    secret, _ = tokens.create_for_project(db, "reader-proj", name="t", scope="read", actor="test")
    with LocalClient(app, headers={"Authorization": f"Bearer {secret}"}) as reader:
        assert put(reader, registry).status_code == 403
        r = reader.post("/api/v1/features/materialize", json={"incremental": True})
        assert r.status_code == 403


def test_concurrent_applies_of_two_projects_keep_both_on_the_embedded_registry(  # type: ignore[no-untyped-def]
    database_url: str, db, tmp_path: Path, now
) -> None:
    """The embedded default keeps every project's definitions in ONE registry file; two
    service processes applying at once (two apps here, each with its own locks) must not
    overwrite each other's projects."""
    import threading

    settings = Settings(
        database_url=database_url,
        home=tmp_path / "home",
        features={"data_roots": [str(tmp_path)]},
    )
    registry = registry_of(write_repo(tmp_path, _frame(now)))
    apps = [create_app(settings, db=db), create_app(settings, db=db)]
    names = [f"race-{i}-{tmp_path.name[-6:]}" for i in range(2)]
    results: list[int] = []

    def apply(i: int) -> None:
        with LocalClient(apps[i], headers={"X-Mlledger-Project": names[i]}) as c:
            for _ in range(3):
                results.append(put(c, registry).status_code)

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 6
    for i in range(2):
        with LocalClient(apps[1 - i], headers={"X-Mlledger-Project": names[i]}) as c:
            views = c.get("/api/v1/features/views").json()
            assert [v["name"] for v in views] == ["driver_hourly_stats"], names[i]


def test_nul_huge_integers_and_other_projects_are_refused_or_kept_apart(  # type: ignore[no-untyped-def]
    client, app, registry: dict[str, Any], project_name: str
) -> None:
    with_nul = _with(registry, lambda r: _view(r).update(name="a\u0000b"))
    r = put(client, with_nul)
    assert r.status_code == 422 and "NUL" in r.json()["error"]["message"]
    huge = _with(registry, lambda r: _view(r).update(ttl={"seconds": str(2**63)}))
    r = put(client, huge)
    assert r.status_code in (400, 422) and "Registry" in r.json()["error"]["message"], r.text
    r = client.post("/api/v1/features/materialize", json={"start": 2**64, "end": "x"})
    assert r.status_code == 422
    assert put(client, registry).status_code == 200
    # Another project sees none of it, and applying there leaves this one's views alone.
    with LocalClient(app, headers={"X-Mlledger-Project": f"{project_name}-other"}) as other:
        assert other.get("/api/v1/features/views").json() == []
        emptied = put(other, {"entities": []})  # declarative: "nothing" for that project only
        assert emptied.status_code == 200, emptied.text
    assert [v["name"] for v in client.get("/api/v1/features/views").json()] == [
        "driver_hourly_stats"
    ]
