"""Model registry: versions with lineage to their run, aliases by compare-and-set."""

from __future__ import annotations

import threading
import uuid

from fastapi.testclient import TestClient


def trained_model(client: TestClient, fingerprint: str = "sha256:m1") -> tuple[dict, dict]:
    run = client.post("/api/v1/runs", json={"experiment": "churn"}).json()
    client.post(
        f"/api/v1/runs/{run['uuid']}/inputs",
        json={"artifact": {"kind": "dataset", "name": "churn-train", "fingerprint": "sha256:d"}},
    ).raise_for_status()
    r = client.post(
        "/api/v1/models/churn-model/versions",
        json={
            "run": run["uuid"],
            "artifact": {"kind": "model", "name": "churn-model", "fingerprint": fingerprint},
            "metrics": {"auc": 0.91},
        },
    )
    assert r.status_code in (200, 201), r.text
    return run, r.json()


def test_version_lineage_reaches_the_training_dataset(client: TestClient) -> None:
    run, version = trained_model(client)
    assert version["version"] == 1 and version["run_id"] == run["id"]
    assert version["metrics"] == {"auc": 0.91}
    lineage = client.get(
        f"/api/v1/lineage/artifact/{version['artifact_id']}", params={"direction": "upstream"}
    )
    assert lineage.status_code == 200, lineage.text
    names = {n.get("name") for n in lineage.json()["nodes"]}
    assert {"churn-train", "churn-model"} <= names
    model = client.get("/api/v1/models/churn-model").json()
    assert model["latest_version"] == 1 and model["aliases"] == {}


def test_same_artifact_is_the_same_version_and_retries_are_idempotent(client: TestClient) -> None:
    run, first = trained_model(client)
    again = client.post(
        "/api/v1/models/churn-model/versions",
        json={
            "run": run["uuid"],
            "artifact": {"kind": "model", "name": "churn-model", "fingerprint": "sha256:m1"},
        },
    )
    assert again.status_code == 200 and again.json()["version"] == first["version"]
    key = str(uuid.uuid4())
    body = {"artifact": {"kind": "model", "name": "churn-model", "fingerprint": "sha256:m2"}}
    a = client.post(
        "/api/v1/models/churn-model/versions", json=body, headers={"Idempotency-Key": key}
    )
    b = client.post(
        "/api/v1/models/churn-model/versions", json=body, headers={"Idempotency-Key": key}
    )
    assert a.status_code == 201 and b.status_code == 200
    assert a.json()["version"] == b.json()["version"] == 2


def test_aliases_move_by_compare_and_set(client: TestClient) -> None:
    trained_model(client, "sha256:m1")
    trained_model(client, "sha256:m2")
    base = "/api/v1/models/churn-model/aliases/production"
    r = client.put(base, json={"version": 1, "expected_version": None})
    assert r.status_code == 200 and r.json() == {
        "model": "churn-model",
        "alias": "production",
        "version": 1,
        "previous_version": None,
    }
    stale = client.put(base, json={"version": 2, "expected_version": None})
    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["current"] == 1
    assert client.put(base, json={"version": 2, "expected_version": 1}).status_code == 200
    assert client.get(base).json()["version"] == 2
    assert client.get("/api/v1/models/churn-model").json()["aliases"] == {"production": 2}
    assert client.get("/api/v1/models/churn-model/versions/2").json()["aliases"] == ["production"]
    assert client.delete(base, params={"expected_version": 1}).status_code == 409
    assert client.delete(base, params={"expected_version": 2}).status_code == 200
    assert client.get(base).status_code == 404


def test_racing_promotions_have_one_winner(client: TestClient) -> None:
    trained_model(client, "sha256:m1")
    trained_model(client, "sha256:m2")
    base = "/api/v1/models/churn-model/aliases/staging"
    client.put(base, json={"version": 1}).raise_for_status()
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def promote() -> None:
        barrier.wait()
        codes.append(client.put(base, json={"version": 2, "expected_version": 1}).status_code)

    threads = [threading.Thread(target=promote) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] + [409] * 7


def test_registry_bad_input(client: TestClient) -> None:
    trained_model(client)
    cases = [
        ("post", "/api/v1/models/churn-model/versions", {}, 400),
        ("post", "/api/v1/models/churn-model/versions", {"artifact_id": 10**12}, 404),
        (
            "post",
            "/api/v1/models/churn-model/versions",
            {"artifact": {"kind": "dataset", "name": "x", "fingerprint": "f"}},
            400,
        ),
        (
            "post",
            "/api/v1/models/churn-model/versions",
            {
                "artifact": {"kind": "model", "name": "m", "fingerprint": "f"},
                "metrics": {"auc": "high"},
            },
            422,
        ),
        (
            "post",
            "/api/v1/models/churn-model/versions",
            {"run": "missing-run", "artifact_id": 1},
            404,
        ),
        ("put", "/api/v1/models/churn-model/aliases/prod", {"version": 99}, 404),
        ("put", "/api/v1/models/churn-model/aliases/bad alias", {"version": 1}, 422),
        ("put", "/api/v1/models/nope/aliases/prod", {"version": 1}, 404),
        ("get", "/api/v1/models/nope", None, 404),
        ("get", "/api/v1/models/churn-model/versions/7", None, 404),
        ("patch", "/api/v1/models/churn-model", {"tags": {"a": 1}}, 422),
    ]
    for method, path, body, status in cases:
        r = client.request(method, path, json=body)
        assert r.status_code == status, (method, path, body, r.text)
        assert r.json()["error"]["message"]


def test_describe_and_tag(client: TestClient) -> None:
    trained_model(client)
    r = client.patch(
        "/api/v1/models/churn-model", json={"description": "churn", "tags": {"team": "risk"}}
    )
    assert r.json()["description"] == "churn" and r.json()["tags"] == {"team": "risk"}
    v = client.patch("/api/v1/models/churn-model/versions/1", json={"description": "first"})
    assert v.json()["description"] == "first"
    listed = client.get("/api/v1/models", params={"name_like": "CHURN%"}).json()
    assert [m["name"] for m in listed["items"]] == ["churn-model"]
    assert [
        v["version"] for v in client.get("/api/v1/models/churn-model/versions").json()["items"]
    ] == [1]


def test_graphql_walks_from_a_production_model_to_its_training_data(client: TestClient) -> None:
    run, _version = trained_model(client)
    client.put(
        "/api/v1/models/churn-model/aliases/production", json={"version": 1}
    ).raise_for_status()
    query = """
    {
      model(name: "churn-model") {
        latestVersion aliases
        version(alias: "production") {
          version metrics
          run { uuid state metrics { key value } }
          artifact { name producers { kind inputs { artifact { name kind } } } }
        }
      }
      runs(filter: "attributes.state = 'running'", first: 5) { nodes { uuid } }
      missing: model(name: "nope") { name }
    }
    """
    r = client.post("/graphql", json={"query": query})
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    data = r.json()["data"]
    v = data["model"]["version"]
    assert data["model"]["aliases"] == {"production": 1} and v["version"] == 1
    assert v["run"]["uuid"] == run["uuid"]
    inputs = {i["artifact"]["name"] for p in v["artifact"]["producers"] for i in p["inputs"]}
    assert "churn-train" in inputs
    assert run["uuid"] in {n["uuid"] for n in data["runs"]["nodes"]}
    assert data["missing"] is None
    bad = client.post(
        "/graphql", json={"query": '{ runs(filter: "metrics.auc >") { nodes { uuid } } }'}
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "invalid_argument"
