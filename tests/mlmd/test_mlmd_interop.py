"""One graph, two doors: what mlledger's REST API writes reads back through MLMD's real client
(types named after kinds, `name:version`, events, lineage), and what MLMD's client writes is
GraphQL lineage — on both databases."""

from __future__ import annotations

import uuid

import httpx

from tests._support.mlmd_client import run_mlmd
from tests._support.servers import Server


def test_mlledgers_own_writes_read_through_mlmd(
    mlmd_server: Server, mlmd_api: httpx.Client
) -> None:
    name = f"churn-{uuid.uuid4().hex[:8]}"
    made = mlmd_api.post(
        "/executions/batch",
        params={"view": "ids"},
        json={
            "executions": [
                {
                    "kind": "run",
                    "name": f"train-{name}",
                    "state": "complete",
                    "inputs": [
                        {"artifact": {"kind": "dataset", "name": name, "uri": "s3://d/train"}}
                    ],
                    "outputs": [
                        {
                            "artifact": {
                                "kind": "model",
                                "name": f"{name}-model",
                                "uri": "s3://m/1",
                                "properties": {"framework": "xgboost"},
                            }
                        }
                    ],
                }
            ]
        },
    )
    assert made.status_code in (200, 201), made.text
    [done] = made.json()["executions"]
    run, data_id, model_id = done["id"], done["inputs"][0], done["outputs"][0]
    seen = run_mlmd(
        f"""
        [d, m] = store.get_artifacts_by_id([{data_id}, {model_id}])
        [e] = store.get_executions_by_id([{run}])
        types = {{t.id: t.name for t in store.get_artifact_types()}}
        [et] = store.get_execution_types_by_id([e.type_id])
        events = sorted((ev.artifact_id, ev.type) for ev in
                        store.get_events_by_execution_ids([{run}]))
        sub = store.get_lineage_subgraph(pb.LineageSubgraphQueryOptions(
            starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(
                filter_query="id = {model_id}"),
            max_num_hops=2, direction=pb.LineageSubgraphQueryOptions.UPSTREAM))
        by_type = [a.id for a in store.get_artifacts_by_type("dataset")]
        out({{
            "data": [types[d.type_id], d.name, d.uri, d.state],
            "model": [types[m.type_id], m.name, m.custom_properties["framework"].string_value],
            "execution": [et.name, e.last_known_state],
            "events": events,
            "upstream": sorted(a.id for a in sub.artifacts),
            "data_by_type": {data_id} in by_type,
        }})
        """,
        mlmd_server.grpc_port,  # type: ignore[arg-type]
    )
    assert seen["data"] == ["dataset", f"{name}:1", "s3://d/train", 2]  # LIVE
    assert seen["model"] == ["model", f"{name}-model:1", "xgboost"]
    assert seen["execution"] == ["run", 3]  # COMPLETE
    assert seen["events"] == sorted([[data_id, 3], [model_id, 4]])  # INPUT, OUTPUT
    assert seen["upstream"] == sorted([data_id, model_id])
    assert seen["data_by_type"] is True


def test_what_mlmd_writes_is_graphql_lineage(mlmd_server: Server, mlmd_api: httpx.Client) -> None:
    ids = run_mlmd(
        """
        examples = store.put_artifact_type(pb.ArtifactType(name="Examples"))
        model = store.put_artifact_type(pb.ArtifactType(name="Model"))
        trainer = store.put_execution_type(pb.ExecutionType(name="Trainer"))
        [ex] = store.put_artifacts([pb.Artifact(type_id=examples, uri="/tfx/examples/9")])
        t, [_, m], _ = store.put_execution(
            pb.Execution(type_id=trainer, last_known_state=pb.Execution.COMPLETE),
            [(pb.Artifact(id=ex), pb.Event(type=pb.Event.INPUT)),
             (pb.Artifact(type_id=model, uri="/tfx/model/9"), pb.Event(type=pb.Event.OUTPUT))],
            [])
        out({"examples": ex, "trainer": t, "model": m})
        """,
        mlmd_server.grpc_port,  # type: ignore[arg-type]
    )
    query = """
    query($id: String!) {
      lineage(nodeId: $id, direction: UPSTREAM, depth: 4) {
        nodes { id type kind name artifact { uri } execution { state } }
        edges { source target type }
      }
    }"""
    answer = httpx.post(
        f"{mlmd_server.url}/graphql",
        json={"query": query, "variables": {"id": f"artifact:{ids['model']}"}},
        headers={"X-Mlledger-Project": "mlmd-tests"},
        timeout=30,
    ).json()
    assert "errors" not in answer, answer
    graph = answer["data"]["lineage"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes[f"artifact:{ids['examples']}"]["kind"] == "dataset"
    assert nodes[f"artifact:{ids['examples']}"]["artifact"]["uri"] == "/tfx/examples/9"
    assert nodes[f"execution:{ids['trainer']}"]["kind"] == "run"
    assert nodes[f"execution:{ids['trainer']}"]["execution"]["state"] == "complete"
    assert {(e["source"], e["target"], e["type"]) for e in graph["edges"]} == {
        (f"artifact:{ids['examples']}", f"execution:{ids['trainer']}", "INPUT"),
        (f"execution:{ids['trainer']}", f"artifact:{ids['model']}", "OUTPUT"),
    }
