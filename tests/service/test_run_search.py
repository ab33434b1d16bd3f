"""Run search: the filter language against both databases, and clean 400s for bad filters."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.fixture
def runs(client: TestClient) -> dict[str, dict]:
    made = {}
    specs = {
        "a": ({"lr": 0.1}, {"team": "risk"}, {"auc": 0.95, "loss": 0.2}),
        "b": ({"lr": 0.01}, {"team": "risk"}, {"auc": 0.85, "loss": 0.3}),
        "c": ({"lr": 0.1}, {"team": "growth"}, {"auc": 0.92}),
        "d": ({"lr": 0.1}, {}, {}),
    }
    for name, (params, tags, metrics) in specs.items():
        r = client.post(
            "/api/v1/runs",
            json={"experiment": "search", "name": name, "params": params, "tags": tags},
        )
        assert r.status_code == 201, r.text
        made[name] = r.json()
        if metrics:
            keys = list(metrics)
            client.post(
                f"/api/v1/runs/{made[name]['uuid']}/metrics",
                json={
                    "keys": keys,
                    "values": [metrics[k] for k in keys],
                    "steps": [0] * len(keys),
                    "timestamps": [1] * len(keys),
                },
            ).raise_for_status()
    client.patch(f"/api/v1/runs/{made['c']['uuid']}", json={"state": "complete"}).raise_for_status()
    return made


def names(client: TestClient, filter: str, **params) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/runs", params={"experiment": "search", "filter": filter, **params})
    assert r.status_code == 200, r.text
    return [run["name"] for run in r.json()["items"]]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ('metrics.auc > 0.9 and params.lr = "0.1" and tags.team = "risk"', ["a"]),
        ("metrics.auc > 0.9", ["c", "a"]),
        ("metrics.auc >= 0.85 and metrics.auc < 0.93", ["c", "b"]),
        ("metrics.loss is null", ["d", "c"]),
        ("metrics.`loss` is not null", ["b", "a"]),
        ("params.lr != '0.1'", ["b"]),
        ("tags.team in ('risk', 'growth')", ["c", "b", "a"]),
        ("tags.team not in ('risk')", ["c"]),
        ("tags.team is null", ["d"]),
        ("name like 'a%' or name = 'b'", ["b", "a"]),
        ("attributes.state = 'complete'", ["c"]),
        ("not (tags.team = 'risk') and metrics.auc > 0", ["c"]),
        ("tags.team ilike 'RI%'", ["b", "a"]),
        ("", ["d", "c", "b", "a"]),
    ],
)
def test_filters(client: TestClient, runs: dict, filter: str, expected: list[str]) -> None:
    assert names(client, filter) == expected


def test_order_by_metric_and_paginate(client: TestClient, runs: dict) -> None:
    assert names(client, "", order_by="metrics.auc desc") == ["a", "c", "b", "d"]
    assert names(client, "", order_by="metrics.auc") == ["b", "c", "a", "d"]
    first = client.get(
        "/api/v1/runs", params={"experiment": "search", "order_by": "name", "limit": 3}
    ).json()
    rest = client.get(
        "/api/v1/runs",
        params={
            "experiment": "search",
            "order_by": "name",
            "limit": 3,
            "cursor": first["next_cursor"],
        },
    ).json()
    assert [r["name"] for r in first["items"] + rest["items"]] == ["a", "b", "c", "d"]
    assert rest["next_cursor"] is None
    latest = {m["key"]: m["value"] for m in first["items"][0]["metrics"]}
    assert latest == {"auc": 0.95, "loss": 0.2}


@pytest.mark.parametrize(
    ("filter", "fragment"),
    [
        ("metrics.auc >", "expected a number or a quoted string"),
        ("metrics.auc > 'high'", "compare it with a number"),
        ("params.lr = 0.1", "quote the value"),
        ("bogus.lr = '1'", "unknown section"),
        ("auc > 1", "is not a field"),
        ("metrics.auc > 1 and", "expected a field"),
        ("metrics.auc > 1 metrics.loss < 2", "expected 'and', 'or'"),
        ("(metrics.auc > 1", "expected ')'"),
        ("metrics.auc ~ 1", "unexpected character"),
        ("params.lr > '0.1'", "is a string"),
        ("metrics.auc like '1%'", "applies to strings"),
        ("attributes.color = 'red'", "unknown attribute"),
        ("tags.team in 'risk'", "'(' to open the list"),
        ("metrics.auc > 1e999", "not a finite number"),
        ("started_at > 'yesterday'", "ISO 8601"),
    ],
)
def test_bad_filters_are_400s_naming_the_problem(
    client: TestClient, filter: str, fragment: str
) -> None:
    r = client.get("/api/v1/runs", params={"filter": filter})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert fragment in error["message"], error
    assert "position" in error["details"]


def test_bad_order_by(client: TestClient) -> None:
    r = client.get("/api/v1/runs", params={"order_by": "metrics.auc sideways"})
    assert r.status_code == 400 and "asc|desc" in r.json()["error"]["message"]


_atoms = st.sampled_from(
    [
        "metrics.auc",
        "params.lr",
        "tags.team",
        "name",
        "attributes.state",
        "started_at",
        "metrics.`a b`",
        ">",
        "<=",
        "=",
        "!=",
        "like",
        "in",
        "not",
        "is",
        "null",
        "and",
        "or",
        "(",
        ")",
        ",",
        "'x'",
        '"0.1"',
        "0.5",
        "-1e3",
        "`",
        "'",
        '"',
        "\\",
        "1e999",
        "%",
        ";",
        "--",
        "/*",
        "x.y.z",
        "",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(_atoms, max_size=9), noise=st.text(max_size=6))
def test_fuzzed_filters_never_500(client: TestClient, parts: list[str], noise: str) -> None:
    filter = " ".join(parts) + noise
    r = client.get("/api/v1/runs", params={"filter": filter})
    assert r.status_code in (200, 400, 422), (filter, r.text)
    if r.status_code != 200:
        assert r.json()["error"]["message"]


def test_filters_on_input_datasets(client: TestClient, runs: dict) -> None:
    """`datasets.name|digest|context`: some input dataset satisfies it; under `not`, none."""
    for run, name, role, digest in [
        ("a", "train", "training", "aa11"),
        ("a", "holdout", "eval", "bb22"),
        ("b", "train", "training", "cc33"),
    ]:
        logged = client.post(
            f"/api/v1/runs/{runs[run]['uuid']}/inputs",
            json={
                "artifact": {"kind": "dataset", "name": name, "fingerprint": f"sha256:{digest}"},
                "role": role,
            },
        )
        assert logged.status_code in (200, 201), logged.text
    assert names(client, "datasets.name = 'train'") == ["b", "a"]
    assert names(client, "datasets.context = 'eval'") == ["a"]
    assert names(client, "datasets.digest = 'cc33'") == ["b"]
    assert names(client, "datasets.name like 'hold%'") == ["a"]
    assert names(client, "datasets.name in ('holdout', 'nope')") == ["a"]
    assert names(client, "not datasets.name = 'train'") == ["d", "c"]
    assert names(client, "datasets.name = 'train' and not datasets.context = 'eval'") == ["b"]
    for bad, fragment in [
        ("datasets.size = 'x'", "unknown dataset field"),
        ("datasets.digest like 'a%'", "compares with = != in"),
        ("datasets.name is null", "compares with"),
        ("datasets.name = 3", "quote the value"),
    ]:
        r = client.get("/api/v1/runs", params={"experiment": "search", "filter": bad})
        assert r.status_code == 400 and fragment in r.json()["error"]["message"], r.text
