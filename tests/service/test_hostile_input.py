"""Inputs an attacker types, each found by a probe and each a 4xx naming the problem (never a
500), with the same answer on SQLite and Postgres."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def code(r) -> str:  # type: ignore[no-untyped-def]
    return r.json()["error"]["code"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/artifacts", {"kind": "dataset", "name": "a\u0000b"}),
        (
            "post",
            "/api/v1/artifacts",
            {"kind": "dataset", "name": "n", "properties": {"k": "\u0000"}},
        ),
        (
            "post",
            "/api/v1/artifacts",
            {"kind": "dataset", "name": "n", "properties": {"\u0000": 1}},
        ),
        ("post", "/api/v1/runs", {"experiment": "e", "tags": {"t": "x\u0000y"}}),
        ("post", "/api/v1/contexts", {"kind": "experiment", "name": "\u0000"}),
        ("post", "/graphql", {"query": '{ search(text: "\u0000") { name } }'}),
        ("get", "/api/v1/artifacts?name=a%00b", None),
        ("get", "/api/v1/models/a%00b", None),
    ],
)
def test_nul_is_refused_everywhere(client: TestClient, method, path, body) -> None:  # type: ignore[no-untyped-def]
    r = client.request(method.upper(), path, json=body)
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["error"]["message"]


def test_an_escaped_backslash_before_u0000_is_text(client: TestClient) -> None:
    r = client.post("/api/v1/artifacts", json={"kind": "dataset", "name": "a\\u0000b"})
    assert r.status_code == 201 and r.json()["name"] == "a\\u0000b"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/artifacts/9223372036854775808",
        "/api/v1/artifacts/²",
        "/api/v1/artifacts/٣",
        "/api/v1/executions/99999999999999999999999",
        "/api/v1/models/m/versions/2147483648",
        "/api/v1/validation/jobs/9223372036854775808",
    ],
)
def test_ids_past_64_bits_and_unicode_digits_are_422(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/²/gate",
        "/api/v1/datasets/٣/gate",
        "/api/v1/datasets/99999999999999999999/gate",
        "/api/v1/datasets/d:99999999999/gate",
        "/api/v1/runs/99999999999999999999",
        "/api/v1/runs/٣",
    ],
)
def test_refs_that_look_like_ids_are_not_500(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (400, 404, 422), r.text


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"kind": "dataset", "name": "n", "properties": {"big": 2**70}}, None),
        ({"artifact": {"kind": "model", "name": "m"}, "metrics": {"x": 1}}, None),
    ],
)
def test_big_numbers_inside_json_are_kept(client: TestClient, body, where) -> None:  # type: ignore[no-untyped-def]
    if "kind" in body:
        r = client.post("/api/v1/artifacts", json=body)
        assert r.status_code == 201 and r.json()["properties"]["big"] == 2**70


def test_versions_and_aliases_past_their_range(client: TestClient) -> None:
    assert client.post("/api/v1/models", json={"name": "m"}).status_code == 201
    for version in (2**31, 2**63, 2**70, -1, 0):
        r = client.put("/api/v1/models/m/aliases/prod", json={"version": version})
        assert r.status_code == 422, (version, r.text)
        r = client.post("/api/v1/models/m/pushes", json={"version": version})
        assert r.status_code == 422, (version, r.text)
    r = client.put("/api/v1/models/m/aliases/prod", json={"version": 3.0})
    assert r.status_code == 404  # a whole float is that integer; no version 3


@pytest.mark.parametrize(
    "query",
    [
        'tags.`a"b` = "x"',
        "tags.`a'b` = 'x'",
        'params.`a\\\\"b` = "x"',
        "attributes.start_time > 99999999999999999999",
        "attributes.start_time > -99999999999999",
        "attributes.start_time < 253402300800000",
        "(" * 400 + "metrics.a > 1" + ")" * 400,
        "metrics.a > 1e400",
        "metrics.`` > 1",
    ],
)
def test_run_filters_never_500(client: TestClient, query: str) -> None:
    client.post("/api/v1/runs", json={"experiment": "e", "tags": {'a"b': "x"}})
    r = client.get("/api/v1/runs", params={"filter": query})
    assert r.status_code in (200, 400, 422), r.text


def test_a_quote_inside_a_backtick_key_is_named_not_spliced(client: TestClient) -> None:
    """No stored tag or param key holds a quote; a filter on one is a 400 before any JSON
    path is built (a quote there broke the path: a 500)."""
    for key in ('team"x', "team'x", "a\\b", "$.x[0]"):
        r = client.get("/api/v1/runs", params={"filter": f'tags.`{key}` = "risk"'})
        assert r.status_code == 400 and "keys are" in r.json()["error"]["message"], key
    r = client.get("/api/v1/runs", params={"filter": "(" * 33 + "metrics.a > 1" + ")" * 33})
    assert r.status_code == 400 and "nested" in r.json()["error"]["message"]


def test_deeply_nested_schemas_are_refused_before_storing(client: TestClient) -> None:
    made = client.post("/api/v1/artifacts", json={"kind": "dataset", "name": "d"})
    assert made.status_code == 201
    for depth in (50, 300, 3000):
        nested = "feature { name: 'x' type: INT " + "struct_domain { feature { name: 'y' " * depth
        nested += "} } " * depth + "}"
        r = client.put(
            "/api/v1/datasets/d/schema", content=nested, headers={"content-type": "text/plain"}
        )
        assert r.status_code in (400, 413, 422), (depth, r.status_code, r.text[:200])
    # What was accepted can be read back.
    listed = client.get("/api/v1/artifacts", params={"name": "d.schema"}).json()["items"]
    for a in listed:
        assert client.get(
            f"/api/v1/artifacts/{a['id']}/content", params={"format": "json"}
        ).is_success


@pytest.mark.parametrize(
    "entities",
    [
        {"driver_id": [1, "a"]},
        {"driver_id": [[1]]},
        {"driver_id": [{"a": 1}]},
        {"driver_id": [2**70]},
        {"": [1]},
        {"driver_id": [True]},
    ],
)
def test_odd_entity_columns_are_4xx(client: TestClient, entities) -> None:  # type: ignore[no-untyped-def]
    body = {"features": ["v:f", "v:f"], "entities": entities}
    r = client.post("/api/v1/features/online", json=body)
    assert 400 <= r.status_code < 500, r.text
    body = {"features": ["v:f"], "entity_rows": {**entities, "event_timestamp": ["2026-01-01"]}}
    r = client.post("/api/v1/features/historical", json=body)
    assert 400 <= r.status_code < 500, r.text


def test_a_duplicated_feature_reference_is_named(client: TestClient) -> None:
    r = client.post(
        "/api/v1/features/online",
        json={"features": ["v:f", "v:f"], "entities": {"driver_id": [1]}},
    )
    assert r.status_code == 422 and "v:f" in r.json()["error"]["message"], r.text
