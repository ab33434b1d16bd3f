"""GraphQL reads behind the lineage explorer: search, gate statuses on graph nodes, blessings
with their threshold tables, the push log, and metric curves."""

from __future__ import annotations

from _support.helpers import count_statements
from _support.pushing import GATE, M, evaluate, push, version
from fastapi.testclient import TestClient


def gql(client: TestClient, query: str, **variables: object) -> dict:  # type: ignore[type-arg]
    r = client.post("/graphql", json={"query": query, "variables": variables})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def test_search_finds_datasets_runs_and_models_by_part_of_the_name(client: TestClient) -> None:
    run = client.post("/api/v1/runs", json={"experiment": "churn", "name": "churn-lr"}).json()
    for fp in ("a", "b"):
        client.post(
            f"/api/v1/runs/{run['uuid']}/inputs",
            json={"artifact": {"kind": "dataset", "name": "churn_train", "fingerprint": fp}},
        ).raise_for_status()
    version(client, 1)
    client.post(
        "/api/v1/artifacts", json={"kind": "dataset", "name": "fraud-data", "fingerprint": "x"}
    ).raise_for_status()
    q = """query($t: String!, $k: [String!]) {
             search(text: $t, kinds: $k) { nodeId kind name version detail } }"""
    hits = gql(client, q, t="CHURN")["search"]
    by_kind = {h["kind"]: h for h in hits}
    assert set(by_kind) == {"dataset", "model", "run", "registered_model"}
    assert by_kind["dataset"]["version"] == 2  # one hit per name, at its latest version
    assert by_kind["run"]["detail"] == "churn" and by_kind["run"]["name"] == "churn-lr"
    assert by_kind["registered_model"]["nodeId"] == "model:churn"
    only = gql(client, q, t="churn", k=["dataset"])["search"]
    assert [h["name"] for h in only] == ["churn_train"]
    assert gql(client, q, t="_t")["search"][0]["name"] == "churn_train"  # _ is not a wildcard
    assert gql(client, q, t="%")["search"] == []
    r = client.post("/graphql", json={"query": q, "variables": {"t": "x", "k": ["spaceship"]}})
    assert "unknown kind" in r.text
    r = client.post("/graphql", json={"query": q, "variables": {"t": " "}})
    assert "1 to 256 characters" in r.text


def test_models_carry_blessings_push_history_and_status_in_the_graph(
    client: TestClient, db
) -> None:  # type: ignore[no-untyped-def]
    v1, v2, v3 = (version(client, n) for n in (1, 2, 3))
    client.put(f"{M}/gate", json=GATE).raise_for_status()
    evaluate(client, v1, auc=0.8)
    push(client, v1).raise_for_status()
    evaluate(client, v2, auc=0.7)  # worse: not blessed, and the push is refused
    assert push(client, v2).status_code == 409
    evaluate(client, v3, auc=0.9)
    data = gql(
        client,
        """{ model(name: "churn") {
              gate { revision config updatedAt }
              pushes { action version outcome reasons }
              versions { version artifact { nodeId status }
                         blessing { blessed baselineVersion checks } } } }""",
    )["model"]
    gate = data["gate"]
    assert gate["revision"] == 1 and gate["config"]["thresholds"][0]["metric"] == "auc"
    assert gate["config"] == client.get(f"{M}/gate").json()["config"]  # REST's shape, as set
    assert [(p["version"], p["outcome"]) for p in data["pushes"]] == [
        (v2, "refused"),
        (v1, "pushed"),
    ]
    status = {v["version"]: v["artifact"]["status"] for v in data["versions"]}
    assert status == {v1: "blessed", v2: "refused", v3: "blessed"}
    v2_checks = next(v for v in data["versions"] if v["version"] == v2)["blessing"]["checks"]
    failed = [c for c in v2_checks if not c["passed"]]
    assert failed and all({"value", "bound", "message"} <= set(c) for c in failed)

    # The push execution is in the graph around the model, marked as such, in bounded SQL.
    node = next(v for v in data["versions"] if v["version"] == v1)["artifact"]["nodeId"]
    q = """query($n: String!) { lineage(nodeId: $n, depth: 3) { nodes { id kind status } } }"""
    with count_statements(db) as count:
        nodes = gql(client, q, n=node)["lineage"]["nodes"]
    kinds = {(n["kind"], n["status"]) for n in nodes}
    assert ("push", "pushed") in kinds and ("model", "blessed") in kinds
    assert ("evaluation", "blessed") in kinds
    assert count[0] <= 12, count[0]
    # Through a fragment too; and a query that does not ask for statuses does not pay for them.
    q = """query($n: String!) { lineage(nodeId: $n, depth: 3) { nodes { ...N } } }
           fragment N on LineageNode { kind status }"""
    assert ("push", "pushed") in {
        (n["kind"], n["status"]) for n in gql(client, q, n=node)["lineage"]["nodes"]
    }
    plain = """query($n: String!) { lineage(nodeId: $n, depth: 3) { nodes { id kind } } }"""
    with count_statements(db) as fewer:
        gql(client, plain, n=node)
    assert fewer[0] <= count[0] - 3, (fewer[0], count[0])


def test_run_metric_history_for_charts(client: TestClient) -> None:
    run = client.post("/api/v1/runs", json={"experiment": "e"}).json()
    n = 5000
    client.post(
        f"/api/v1/runs/{run['uuid']}/metrics",
        json={
            "keys": ["loss"] * n,
            "values": [1 / (i + 1) for i in range(n)],
            "steps": list(range(n)),
            "timestamps": [1_700_000_000_000 + i for i in range(n)],
        },
    ).raise_for_status()
    q = """query($id: String!, $p: Int!) { run(id: $id) {
             history(key: "loss", maxPoints: $p) { total downsampled steps values } } }"""
    full = gql(client, q, id=run["uuid"], p=10_000)["run"]["history"]
    assert full["total"] == n and not full["downsampled"] and len(full["values"]) == n
    small = gql(client, q, id=run["uuid"], p=100)["run"]["history"]
    assert small["downsampled"] and len(small["steps"]) == 100
    missing = gql(
        client,
        """query($id: String!) { run(id: $id) { history(key: "nope") { total } } }""",
        id=run["uuid"],
    )
    assert missing["run"]["history"]["total"] == 0


def _ui_query(name: str) -> str:
    """A query exactly as the explorer sends it (ui/src/queries.js)."""
    import re
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "ui" / "src" / "queries.js").read_text()
    found = re.search(rf"export const {name} = `(.*?)`;", source, re.S)
    assert found, name
    return found.group(1)


def test_the_model_page_costs_the_same_statements_for_3_or_30_versions(  # type: ignore[no-untyped-def]
    client: TestClient, db
) -> None:
    """The explorer's model page asks every version's blessing, training data and their data
    gates at once: dataloaders batch them, so 30 versions cost what 3 do."""
    client.post("/api/v1/models", json={"name": "churn"}).raise_for_status()
    assert client.put(f"{M}/gate", json=GATE).status_code == 200
    query = _ui_query("MODEL")

    def add(n: int) -> None:
        v = version(client, n, dataset=f"train-{n}")
        evaluate(client, v, 0.8)

    for n in range(1, 4):
        add(n)
    with count_statements(db) as few:
        small = gql(client, query, name="churn")["model"]
    for n in range(4, 31):
        add(n)
    with count_statements(db) as many:
        large = gql(client, query, name="churn")["model"]
    assert len(small["versions"]) == 3 and len(large["versions"]) == 30
    assert all(v["blessing"]["blessed"] for v in large["versions"])
    assert all([d["status"] for d in v["trainingData"]] == ["none"] for v in large["versions"])
    assert many[0] == few[0], (few[0], many[0])


def test_the_explorers_list_queries_cost_the_same_statements_at_any_size(  # type: ignore[no-untyped-def]
    client: TestClient, db
) -> None:
    """HOME, RUNS and VERSIONS, as the explorer sends them: the statement count does not grow
    with the number of runs, models or versions. A comparison's curves are one request but
    still a few statements per (run, key) series — each is its own downsampling aggregate."""
    from _support.helpers import histories_document

    def grow(start: int, stop: int) -> None:
        for n in range(start, stop):
            run = client.post("/api/v1/runs", json={"experiment": "churn", "name": f"r{n}"})
            uuid = run.json()["uuid"]
            client.post(
                f"/api/v1/runs/{uuid}/metrics",
                json={
                    "keys": ["auc", "loss"],
                    "values": [0.5, 0.4],
                    "steps": [0, 0],
                    "timestamps": [1_700_000_000_000, 1_700_000_000_000],
                },
            ).raise_for_status()
            client.post("/api/v1/models", json={"name": f"m{n}"}).raise_for_status()
            client.post(
                "/api/v1/artifacts",
                json={"kind": "dataset", "name": "shared", "fingerprint": f"f{n}"},
            ).raise_for_status()

    def counts() -> list[int]:
        runs = gql(client, _ui_query("RUNS"), experiment=["churn"], first=50)["runs"]["nodes"]
        ids = [str(r["id"]) for r in runs[:20]]
        out = []
        for query, variables in (
            (_ui_query("HOME"), {}),
            (_ui_query("RUNS"), {"experiment": ["churn"], "first": 50}),
            (_ui_query("VERSIONS"), {"name": "shared"}),
            (
                histories_document(len(ids), 2),
                {"k0": "auc", "k1": "loss"} | {f"r{i}": run_id for i, run_id in enumerate(ids)},
            ),
        ):
            with count_statements(db) as n:
                gql(client, query, **variables)
            out.append(n[0])
        return out

    grow(0, 3)
    few = counts()
    grow(3, 25)
    many = counts()
    assert many[:3] == few[:3]
    assert many[3] <= 4 * 20 * 2 + 5, many[3]  # 20 runs x 2 keys


def _ui_document(name: str) -> str:
    """`_ui_query` with the module's shared field lists substituted, as the bundle sends it."""
    import re
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "ui" / "src" / "queries.js").read_text()
    shared = dict(re.findall(r"const (\w+) = `([^`$]*)`;", source))
    return re.sub(r"\$\{(\w+)\}", lambda m: shared[m.group(1)], _ui_query(name))


def test_the_explorers_detail_pages_cost_the_same_statements_at_any_size(  # type: ignore[no-untyped-def]
    client: TestClient, db
) -> None:
    """ARTIFACT, EXECUTION, RUN and LINEAGE as the explorer sends them: a dataset read by 3 or
    by 30 executions, an execution with 3 or 30 inputs, a run with 3 or 30 metrics and inputs,
    the lineage around them — the statement count does not grow with the neighbours."""
    from _support.helpers import ids, new, run

    shared = run(client, "make", [], [new("dataset", "shared")])
    dataset = ids(shared, "outputs")[0]
    tracked = client.post("/api/v1/runs", json={"experiment": "wide", "name": "wide"}).json()

    def grow(start: int, stop: int) -> dict[str, int]:
        for n in range(start, stop):
            run(client, f"reader-{n}", [{"artifact_id": dataset}], [new("model", f"m{n}")])
            client.post(
                f"/api/v1/runs/{tracked['uuid']}/metrics",
                json={"keys": [f"k{n}"], "values": [0.5], "steps": [0], "timestamps": [1]},
            ).raise_for_status()
            client.post(
                f"/api/v1/runs/{tracked['uuid']}/inputs",
                json={"artifact": {"kind": "dataset", "name": f"in-{n}"}},
            ).raise_for_status()
        wide = run(
            client, f"wide-{stop}", [new("dataset", f"w{stop}-{i}") for i in range(stop)], []
        )
        return {"execution": wide["id"]}

    def counts(made: dict[str, int]) -> list[int]:
        out = []
        for query, variables in (
            (_ui_document("ARTIFACT"), {"id": dataset}),
            (_ui_document("EXECUTION"), {"id": made["execution"]}),
            (_ui_document("RUN"), {"id": tracked["uuid"]}),
            (
                _ui_document("LINEAGE"),
                {"node": f"artifact:{dataset}", "direction": "BOTH", "depth": 2},
            ),
        ):
            with count_statements(db) as n:
                data = gql(client, query, **variables)
            assert all(v is not None for v in data.values()), (query, data)
            out.append(n[0])
        return out

    few = counts(grow(0, 3))
    many = counts(grow(3, 30))
    assert many == few, (few, many)
