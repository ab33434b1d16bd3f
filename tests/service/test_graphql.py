"""GraphQL: nested reads through dataloaders (bounded statements), limits, errors."""

from __future__ import annotations

import pytest
from _support.helpers import LocalClient, count_statements, new, run
from fastapi.testclient import TestClient

from mlledger.service.app import create_app
from mlledger.service.settings import GraphQLSettings


def gql(client: TestClient, query: str, **variables: object) -> dict:
    r = client.post("/graphql", json={"query": query, "variables": variables})
    assert r.status_code == 200, r.text
    return r.json()


NESTED = """
query ($first: Int!) {
  artifacts(kind: "model", first: $first) {
    nodes {
      name version nodeId
      contexts { name }
      producers(first: 5) {
        name params contexts(first: 5) { kind name }
        inputs(first: 5) {
          role artifact { name producers(first: 5) { name } consumers(first: 5) { name } }
        }
        outputs(first: 5) { artifact { name } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def seed_models(client: TestClient, n: int) -> None:
    for i in range(n):
        run(
            client,
            f"train-{i}",
            [
                {**new("dataset", f"data-{i}"), "role": "train"},
                new("dataset", "shared-eval", fingerprint="sha:eval"),
            ],
            [new("model", f"model-{i}")],
            params={"i": i},
            contexts=[{"kind": "experiment", "name": f"exp-{i % 2}"}],
        )


def test_nested_query_resolves_the_graph(client: TestClient):
    seed_models(client, 3)
    data = gql(client, NESTED, first=10)["data"]["artifacts"]
    assert [n["name"] for n in data["nodes"]] == ["model-2", "model-1", "model-0"]
    m = data["nodes"][0]
    assert m["nodeId"].startswith("artifact:") and m["contexts"] == [{"name": "exp-0"}]
    (producer,) = m["producers"]
    assert producer["name"] == "train-2" and producer["params"] == {"i": 2}
    assert [(i["role"], i["artifact"]["name"]) for i in producer["inputs"]] == [
        ("train", "data-2"),
        (None, "shared-eval"),
    ]
    shared = producer["inputs"][1]["artifact"]
    assert sorted(c["name"] for c in shared["consumers"]) == ["train-0", "train-1", "train-2"]
    assert data["pageInfo"] == {"hasNextPage": False, "endCursor": None}


def test_statements_do_not_grow_with_the_number_of_nodes(client: TestClient, db):
    seed_models(client, 3)
    with count_statements(db) as few:
        small = gql(client, NESTED, first=3)["data"]["artifacts"]["nodes"]
    seed_models(client, 27)
    with count_statements(db) as many:
        large = gql(client, NESTED, first=30)["data"]["artifacts"]["nodes"]
    assert len(small) == 3 and len(large) == 30
    assert many[0] == few[0], (few[0], many[0])
    assert many[0] <= 40  # one per loader level (+ BEGINs on SQLite), not one per node


def test_lineage_query(client: TestClient):
    a = run(client, "a", [new("dataset", "raw")], [{**new("dataset", "mid")}])
    mid = a["outputs"][0]["artifact"]["id"]
    b = run(client, "b", [{"artifact_id": mid}], [new("model", "m")])
    m = b["outputs"][0]["artifact"]["id"]
    data = gql(
        client,
        """query ($id: String!) {
        lineage(nodeId: $id, direction: UPSTREAM, depth: 4) {
          root truncated nodes { id type name depth artifact { version } execution { state } }
          edges { source target type } } }""",
        id=f"artifact:{m}",
    )["data"]["lineage"]
    assert data["root"] == f"artifact:{m}" and not data["truncated"]
    assert [n["name"] for n in data["nodes"]] == ["m", "b", "mid", "a", "raw"]
    assert data["nodes"][1]["execution"] == {"state": "running"}
    assert data["nodes"][1]["artifact"] is None
    assert len(data["edges"]) == 4


@pytest.mark.parametrize(
    ("node_id", "code"),
    [
        ("artifact:99999999", "not_found"),
        ("model:1", "invalid_argument"),
        ("artifact:abc", "invalid_argument"),
    ],
)
def test_lineage_errors_carry_codes(client: TestClient, node_id: str, code: str):
    body = gql(client, "query ($id: String!) { lineage(nodeId: $id) { root } }", id=node_id)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code


def test_depth_limit(settings, db, project_name):
    settings.graphql = GraphQLSettings(max_depth=4)
    deep = "{ artifact(id: 1) { producers { inputs { artifact { producers { name } } } } } }"
    shallow = "{ artifact(id: 1) { producers { inputs { role } } } }"
    with LocalClient(
        create_app(settings, db=db), headers={"X-Mlledger-Project": project_name}
    ) as c:
        body = gql(c, deep)
        assert "exceeds maximum operation depth of 4" in body["errors"][0]["message"]
        assert body.get("data") is None
        assert gql(c, shallow) == {"data": {"artifact": None}}


def test_complexity_limit(client: TestClient):
    wide = (
        "{ artifacts(first: 500) { nodes { consumers { outputs { artifact { consumers "
        "{ name } } } } } } }"
    )
    body = gql(client, wide)
    error = body["errors"][0]
    assert "query cost" in error["message"] and error["extensions"]["code"] == "query_too_complex"
    body = gql(client, "{ artifacts(first: 0) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "invalid_argument"


def test_pagination(client: TestClient):
    seed_models(client, 5)
    seen, after = [], None
    while True:
        page = gql(
            client,
            'query ($after: String) { artifacts(kind: "model", first: 2, '
            "after: $after) { nodes { name } pageInfo { hasNextPage endCursor } } }",
            after=after,
        )["data"]["artifacts"]
        seen += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"model-{i}" for i in range(4, -1, -1)]
    bad = gql(client, '{ artifacts(after: "zzz") { nodes { id } } }')
    assert bad["errors"][0]["extensions"]["code"] == "invalid_argument"


def test_introspection_is_counted_but_the_standard_query_fits(client: TestClient):
    from graphql import get_introspection_query

    full = gql(client, get_introspection_query(descriptions=True))
    assert "errors" not in full and full["data"]["__schema"]["types"]
    deep = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    assert gql(client, deep)["errors"]  # too deep or too costly: refused before it runs
    many = "{ " + " ".join(f"s{i}: __schema {{ types {{ name }} }}" for i in range(1000)) + " }"
    body = gql(client, many)
    assert body["errors"][0]["extensions"]["code"] == "query_too_complex"
    assert body["errors"][0]["extensions"]["rootFields"] == 1000


def test_lists_are_costed_at_their_bounds(client: TestClient):
    """A lineage answer without `maxNodes` is costed at the server's node bound, and its
    edges at three times that: ten aliased ones do not fit, ten small ones do."""
    a = run(client, "a", [new("dataset", "raw")], [new("model", "m")])
    node = f"artifact:{a['outputs'][0]['artifact']['id']}"
    sel = "nodes { id name kind } edges { source target }"
    ten = " ".join(f'l{i}: lineage(nodeId: "{node}") {{ {sel} }}' for i in range(10))
    body = gql(client, "{ " + ten + " }")
    assert body["errors"][0]["extensions"]["code"] == "query_too_complex"
    assert body["errors"][0]["extensions"]["cost"] > 10 * 10_000
    small = " ".join(
        f'l{i}: lineage(nodeId: "{node}", maxNodes: 100) {{ {sel} }}' for i in range(10)
    )
    data = gql(client, "{ " + small + " }")["data"]
    assert len(data["l9"]["nodes"]) == 3
    body = gql(client, f'{{ lineage(nodeId: "{node}", maxNodes: 0) {{ root }} }}')
    assert body["errors"][0]["extensions"]["code"] == "invalid_argument"
    mid = a["outputs"][0]["artifact"]["id"]
    body = gql(client, f"{{ artifact(id: {mid}) {{ producers(first: 5000) {{ name }} }} }}")
    assert body["errors"][0]["extensions"]["code"] == "invalid_argument"


def test_a_query_past_its_time_budget_stops(settings, db, project_name):
    settings.graphql = GraphQLSettings(timeout_seconds=0.000001)
    with LocalClient(
        create_app(settings, db=db), headers={"X-Mlledger-Project": project_name}
    ) as c:
        body = gql(c, "{ artifacts(first: 5) { nodes { id producers { name } } } }")
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "query_timeout"


def test_a_huge_graphql_document_is_413(client: TestClient):
    r = client.post("/graphql", json={"query": "{ " + "__typename " * 40_000 + "}"})
    assert r.status_code == 413


def test_lineage_from_any_artifact_or_execution(client: TestClient):
    """The walk can start where the query stands: from a model version's artifact upward."""
    a = run(client, "train", [new("dataset", "raw")], [new("model", "m")])
    model = a["outputs"][0]["artifact"]
    body = gql(
        client,
        """query ($id: Int!) { artifact(id: $id) {
          lineage(direction: UPSTREAM, depth: 2, maxNodes: 10) { root nodes { name } } } }""",
        id=model["id"],
    )
    assert [n["name"] for n in body["data"]["artifact"]["lineage"]["nodes"]] == [
        "m",
        "train",
        "raw",
    ]
    body = gql(
        client,
        """query ($id: Int!) { execution(id: $id) {
          lineage(direction: DOWNSTREAM, depth: 1) { nodes { name } } } }""",
        id=a["id"],
    )
    assert {n["name"] for n in body["data"]["execution"]["lineage"]["nodes"]} == {"train", "m"}
