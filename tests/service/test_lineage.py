"""Lineage walks on branching and merging graphs, depth and node bounds, cycles refused."""

from __future__ import annotations

import pytest
from _support.helpers import LocalClient, count_statements, ids, new, run
from fastapi.testclient import TestClient

from mlledger.service.app import create_app
from mlledger.service.settings import LineageSettings


@pytest.fixture
def graph(client: TestClient) -> dict[str, int]:
    """raw -> prep -> (train_set, test_set)   branch
    train_set + features -> train -> model    merge
    model + test_set -> evaluate -> report    merge of both branches
    """
    prep = run(
        client,
        "prep",
        [new("dataset", "raw")],
        [new("dataset", "train_set"), new("dataset", "test_set")],
    )
    raw = ids(prep, "inputs")[0]
    train_set, test_set = ids(prep, "outputs")
    train = run(
        client,
        "train",
        [{"artifact_id": train_set}, new("feature_view", "features")],
        [new("model", "model")],
    )
    model = ids(train, "outputs")[0]
    features = ids(train, "inputs")[1]
    evaluate = run(
        client,
        "evaluate",
        [{"artifact_id": model}, {"artifact_id": test_set}],
        [new("evaluation", "report")],
    )
    return {
        "raw": raw,
        "train_set": train_set,
        "test_set": test_set,
        "features": features,
        "model": model,
        "report": ids(evaluate, "outputs")[0],
        "prep": prep["id"],
        "train": train["id"],
        "evaluate": evaluate["id"],
    }


def lineage(client: TestClient, node: str, **params: object) -> dict:
    r = client.get(f"/api/v1/lineage/{node}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def names(body: dict) -> set[str]:
    return {n["name"] for n in body["nodes"]}


def test_upstream_of_a_merge_reaches_every_source(client: TestClient, graph: dict[str, int]):
    body = lineage(client, f"artifact/{graph['report']}", direction="upstream", depth=10)
    assert names(body) == {
        "report",
        "evaluate",
        "model",
        "test_set",
        "train",
        "train_set",
        "features",
        "prep",
        "raw",
    }
    edges = {(e["source"], e["target"], e["type"]) for e in body["edges"]}
    g = graph
    assert edges == {
        (f"artifact:{g['raw']}", f"execution:{g['prep']}", "INPUT"),
        (f"execution:{g['prep']}", f"artifact:{g['train_set']}", "OUTPUT"),
        (f"execution:{g['prep']}", f"artifact:{g['test_set']}", "OUTPUT"),
        (f"artifact:{g['train_set']}", f"execution:{g['train']}", "INPUT"),
        (f"artifact:{g['features']}", f"execution:{g['train']}", "INPUT"),
        (f"execution:{g['train']}", f"artifact:{g['model']}", "OUTPUT"),
        (f"artifact:{g['model']}", f"execution:{g['evaluate']}", "INPUT"),
        (f"artifact:{g['test_set']}", f"execution:{g['evaluate']}", "INPUT"),
        (f"execution:{g['evaluate']}", f"artifact:{g['report']}", "OUTPUT"),
    }
    assert body["root"] == f"artifact:{g['report']}" and body["truncated"] is False
    # Depth is the shortest distance: prep is 3 edges away through test_set, 5 through train.
    depth = {n["name"]: n["depth"] for n in body["nodes"]}
    assert depth == {
        "report": 0,
        "evaluate": 1,
        "model": 2,
        "test_set": 2,
        "train": 3,
        "train_set": 4,
        "features": 4,
        "prep": 3,
        "raw": 4,
    }


def test_downstream_of_a_branch(client: TestClient, graph: dict[str, int]):
    body = lineage(client, f"artifact/{graph['raw']}", direction="downstream", depth=10)
    assert names(body) == {
        "raw",
        "prep",
        "train_set",
        "test_set",
        "train",
        "model",
        "evaluate",
        "report",
    }  # not `features`: it is upstream of train, not downstream
    body = lineage(client, f"artifact/{graph['features']}", direction="downstream", depth=10)
    assert names(body) == {"features", "train", "model", "evaluate", "report"}


def test_depth_bounds_the_walk(client: TestClient, graph: dict[str, int]):
    up = f"artifact/{graph['model']}"
    assert names(lineage(client, up, direction="upstream", depth=1)) == {"model", "train"}
    assert names(lineage(client, up, direction="upstream", depth=2)) == {
        "model",
        "train",
        "train_set",
        "features",
    }
    assert names(lineage(client, up, direction="upstream", depth=3)) == {
        "model",
        "train",
        "train_set",
        "features",
        "prep",
    }
    both = lineage(client, up, direction="both", depth=2)
    assert names(both) == {"model", "train", "train_set", "features", "evaluate", "report"}


def test_lineage_from_an_execution(client: TestClient, graph: dict[str, int]):
    body = lineage(client, f"execution/{graph['train']}", direction="both", depth=1)
    assert names(body) == {"train", "train_set", "features", "model"}


def test_node_limit_truncates_keeping_the_nearest(settings, db, project_name, graph):
    settings.lineage = LineageSettings(max_nodes=3)
    with LocalClient(
        create_app(settings, db=db), headers={"X-Mlledger-Project": project_name}
    ) as small:
        body = lineage(small, f"artifact/{graph['report']}", direction="upstream", depth=10)
    assert body["truncated"] is True
    assert len(body["nodes"]) == 3
    assert max(n["depth"] for n in body["nodes"]) <= 2


def test_long_chain_is_walked_in_a_constant_number_of_statements(client: TestClient, db):
    """A 40-step chain, each step consuming the previous output and a fresh input."""
    steps = [
        {
            "kind": "run",
            "name": "s0",
            "inputs": [new("dataset", "seed")],
            "outputs": [{**new("dataset", "out"), "label": "o0"}],
        }
    ]
    for i in range(1, 40):
        steps.append(
            {
                "kind": "run",
                "name": f"s{i}",
                "inputs": [{"ref": f"o{i - 1}"}, new("dataset", f"fresh{i}")],
                "outputs": [{**new("dataset", "out"), "label": f"o{i}"}],
            }
        )
    r = client.post("/api/v1/executions/batch", json={"executions": steps})
    assert r.status_code == 201, r.text
    last = r.json()["executions"][-1]["outputs"][0]["artifact"]
    assert last["version"] == 40  # one name, forty versions

    def walk(depth: int) -> tuple[int, int]:
        with count_statements(db) as counted:
            body = lineage(client, f"artifact/{last['id']}", direction="upstream", depth=depth)
        return len(body["nodes"]), counted[0]

    nodes_5, statements_5 = walk(5)
    nodes_all, statements_all = walk(100)
    assert nodes_5 == 8  # out, s39, out + fresh39, s38, out + fresh38, s37
    assert nodes_all == 40 * 2 + 39 + 1  # 40 outputs + 40 steps + 39 fresh + seed
    assert statements_all == statements_5  # no per-node queries


def test_cycles_are_refused(client: TestClient, graph: dict[str, int]):
    # report is downstream of raw; an execution reading report and writing raw closes a loop.
    r = client.post(
        "/api/v1/executions",
        json={
            "kind": "run",
            "name": "loop",
            "inputs": [{"artifact_id": graph["report"]}],
            "outputs": [{"artifact_id": graph["raw"]}],
        },
    )
    assert r.status_code == 409  # the graph as it stands forbids it
    assert "acyclic" in r.json()["error"]["message"]
    # The refused write left nothing behind.
    runs = client.get("/api/v1/executions", params={"name": "loop"}).json()["items"]
    assert runs == []

    r = client.post(
        "/api/v1/executions",
        json={
            "kind": "run",
            "name": "self",
            "inputs": [{"artifact_id": graph["raw"]}],
            "outputs": [{"artifact_id": graph["raw"]}],
        },
    )
    assert r.status_code == 409 and "both input and output" in r.json()["error"]["message"]

    # Adding an input to a running execution that is downstream of its own output.
    r = client.post(
        f"/api/v1/executions/{graph['prep']}/events",
        json={"inputs": [{"artifact_id": graph["report"]}]},
    )
    assert r.status_code == 409
    body = lineage(client, f"execution/{graph['prep']}", direction="upstream", depth=1)
    assert names(body) == {"prep", "raw"}


def test_unknown_or_foreign_roots_are_404(client: TestClient, graph, app):
    assert client.get("/api/v1/lineage/artifact/999999999").status_code == 404
    with LocalClient(app, headers={"X-Mlledger-Project": "someone-else"}) as other:
        r = other.get(f"/api/v1/lineage/artifact/{graph['raw']}")
    assert r.status_code == 404
    assert client.get("/api/v1/lineage/model/1").status_code == 422
    r = client.get(f"/api/v1/lineage/artifact/{graph['raw']}", params={"depth": 1000})
    assert r.status_code == 422 and "depth" in r.json()["error"]["message"]
    r = client.get(f"/api/v1/lineage/artifact/{graph['raw']}", params={"direction": "sideways"})
    assert r.status_code == 422


def test_each_hop_is_an_index_lookup(client: TestClient, db):
    """The walk's plan probes the event table's covering indexes; it never scans it."""
    from sqlalchemy import text

    from mlledger.store.metadata.lineage import _walk_sql

    steps = [{"kind": "run", "name": "s0", "outputs": [{**new("dataset", "o"), "label": "o0"}]}]
    steps += [
        {
            "kind": "run",
            "name": f"s{i}",
            "inputs": [{"ref": f"o{i - 1}"}],
            "outputs": [{**new("dataset", "o"), "label": f"o{i}"}],
        }
        for i in range(1, 200)
    ]
    r = client.post("/api/v1/executions/batch", params={"view": "ids"}, json={"executions": steps})
    last = r.json()["executions"][-1]["outputs"][0]
    params = {
        "root_type": "a",
        "root_id": last,
        "up": 1,
        "down": 1,
        "max_depth": 20,
        "row_cap": 1000,
        "node_cap": 100,
        "project_id": 1,
    }
    with db.read() as session:
        if db.dialect == "postgresql":
            session.execute(text("ANALYZE event"))
            plan = "\n".join(
                r[0] for r in session.execute(text("EXPLAIN " + _walk_sql("postgresql")), params)
            )
            assert "ix_event_artifact_id_type_execution_id" in plan
            assert "uq_event_execution_id_type_artifact_id" in plan
            assert "Seq Scan on event" not in plan
        else:
            plan = "\n".join(
                str(r[-1])
                for r in session.execute(text("EXPLAIN QUERY PLAN " + _walk_sql("sqlite")), params)
            )
            # SQLite names a table's unique-constraint index sqlite_autoindex_event_N.
            searches = [line for line in plan.splitlines() if line.startswith("SEARCH ev")]
            assert len(searches) == 2
            assert all("USING COVERING INDEX" in line for line in searches)
            assert any("(artifact_id=? AND type=?)" in line for line in searches)
            assert any("(execution_id=? AND type=?)" in line for line in searches)
            assert "SCAN ev" not in plan
