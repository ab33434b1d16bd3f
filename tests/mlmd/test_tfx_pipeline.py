"""A TFX pipeline run as TFX records it through MLMD's real client — contexts for the
pipeline, the run and each node; ExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator
-> Trainer -> Evaluator -> Pusher, each registered RUNNING with its inputs and published
COMPLETE with its outputs — lands in mlledger's graph: the pushed model's upstream lineage in
REST reaches the Examples, and the run is a pipeline_run context the explorer lists."""

from __future__ import annotations

import uuid

import httpx

from tests._support.mlmd_client import run_mlmd
from tests._support.servers import Server

PIPELINE = """
pipeline, run_id = sys.argv[2], sys.argv[3]
ids = {}
def artifact_type(name, **props):
    t = pb.ArtifactType(name=name, properties=props)
    return store.put_artifact_type(t, can_add_fields=True)
def context(type_name, name):
    type_id = store.put_context_type(pb.ContextType(name=type_name), can_add_fields=True)
    return pb.Context(type_id=type_id, name=name)
types = {n: artifact_type(n, span=pb.INT, split_names=pb.STRING) for n in (
    "Examples", "ExampleStatistics", "Schema", "ExampleAnomalies", "Model",
    "ModelEvaluation", "ModelBlessing", "PushedModel")}
contexts = lambda node: [context("pipeline", pipeline), context("pipeline_run", run_id),
                         context("node", f"{pipeline}.{node}")]
produced = {}
def component(node, inputs, outputs):
    exec_type = store.put_execution_type(
        pb.ExecutionType(name=f"tfx.components.{node.lower()}.component.{node}"),
        can_add_fields=True)
    execution = pb.Execution(type_id=exec_type, last_known_state=pb.Execution.RUNNING,
                             name=f"{run_id}.{node}")
    execution.custom_properties["component_id"].string_value = node
    pairs = []
    for key, name in inputs:
        [a] = store.get_artifacts_by_id([produced[name]])
        event = pb.Event(type=pb.Event.INPUT)
        event.path.steps.add().key = key
        event.path.steps.add().index = 0
        pairs.append((a, event))
    execution_id, _, _ = store.put_execution(execution, pairs, contexts(node),
                                             reuse_context_if_already_exist=True)
    [execution] = store.get_executions_by_id([execution_id])
    execution.last_known_state = pb.Execution.COMPLETE
    pairs = []
    for key, name in outputs:
        uri = f"/pipelines/{pipeline}/{node}/{key}/{execution_id}"
        a = pb.Artifact(type_id=types[name], uri=uri, state=pb.Artifact.LIVE)
        a.properties["span"].int_value = 0
        a.properties["split_names"].string_value = '["train", "eval"]'
        event = pb.Event(type=pb.Event.OUTPUT)
        event.path.steps.add().key = key
        event.path.steps.add().index = 0
        pairs.append((a, event))
    _, artifact_ids, _ = store.put_execution(execution, pairs, contexts(node),
                                             reuse_context_if_already_exist=True)
    for (key, name), artifact_id in zip(outputs, artifact_ids):
        produced[name] = artifact_id
    ids[node] = execution_id

component("CsvExampleGen", [], [("examples", "Examples")])
component("StatisticsGen", [("examples", "Examples")], [("statistics", "ExampleStatistics")])
component("SchemaGen", [("statistics", "ExampleStatistics")], [("schema", "Schema")])
component("ExampleValidator", [("statistics", "ExampleStatistics"), ("schema", "Schema")],
          [("anomalies", "ExampleAnomalies")])
component("Trainer", [("examples", "Examples"), ("schema", "Schema")], [("model", "Model")])
component("Evaluator", [("examples", "Examples"), ("model", "Model")],
          [("evaluation", "ModelEvaluation"), ("blessing", "ModelBlessing")])
component("Pusher", [("model", "Model"), ("model_blessing", "ModelBlessing")],
          [("pushed_model", "PushedModel")])

# What TFX's input resolution asks: the node's latest complete executions, a run's outputs.
trainer_runs = store.get_executions(list_options=mlmd.ListOptions(filter_query=(
    f"contexts_a.type = 'node' AND contexts_a.name = '{pipeline}.Trainer' "
    "AND last_known_state = COMPLETE")))
models = store.get_artifacts(list_options=mlmd.ListOptions(filter_query=(
    f"type = 'Model' AND contexts_r.type = 'pipeline_run' AND contexts_r.name = '{run_id}' "
    f"AND events_0.execution_id = {ids['Trainer']} AND events_0.type = OUTPUT")))
[run] = [c for c in store.get_contexts_by_type("pipeline_run") if c.name == run_id]
subgraph = store.get_lineage_subgraph(pb.LineageSubgraphQueryOptions(
    starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(
        filter_query=f"id = {produced['PushedModel']}"),
    max_num_hops=20, direction=pb.LineageSubgraphQueryOptions.UPSTREAM))
out({"produced": produced, "executions": ids, "run": run.id,
     "trainer_runs": [e.id for e in trainer_runs], "models": [a.id for a in models],
     "run_executions": len(store.get_executions_by_context(run.id)),
     "upstream_types": sorted({t.name for t in subgraph.artifact_types})})
"""


def test_a_tfx_run_is_mlledger_lineage(mlmd_server: Server, mlmd_api: httpx.Client) -> None:
    pipeline, run_id = f"taxi-{uuid.uuid4().hex[:8]}", f"run-{uuid.uuid4().hex[:8]}"
    assert mlmd_server.grpc_port is not None
    got = run_mlmd(
        PIPELINE.replace("sys.argv[2], sys.argv[3]", f"{pipeline!r}, {run_id!r}"),
        mlmd_server.grpc_port,
    )
    produced, executions = got["produced"], got["executions"]
    assert got["trainer_runs"] == [executions["Trainer"]]
    assert got["models"] == [produced["Model"]]
    assert got["run_executions"] == 7
    # Upstream of the pushed model: not the Evaluator's other output, ModelEvaluation.
    assert got["upstream_types"] == [
        "ExampleStatistics",
        "Examples",
        "Model",
        "ModelBlessing",
        "PushedModel",
        "Schema",
    ]

    # The same graph through mlledger's REST: kinds mapped, the run a pipeline_run context.
    pushed = mlmd_api.get(f"/artifacts/{produced['PushedModel']}").json()
    assert (pushed["kind"], pushed["uri"]) == (
        "model",
        f"/pipelines/{pipeline}/Pusher/pushed_model/{executions['Pusher']}",
    )
    examples = mlmd_api.get(f"/artifacts/{produced['Examples']}").json()
    assert examples["kind"] == "dataset"
    lineage = mlmd_api.get(
        f"/lineage/artifact/{produced['PushedModel']}",
        params={"direction": "upstream", "depth": 20},
    ).json()
    reached = {(n["type"], n["kind"], n["name"]) for n in lineage["nodes"]}
    assert ("artifact", "dataset", "Examples") in reached
    assert ("execution", "run", f"{run_id}.Trainer") in reached
    runs = mlmd_api.get("/contexts", params={"kind": "pipeline_run", "name": run_id}).json()
    assert [c["id"] for c in runs["items"]] == [got["run"]]
    pipelines = mlmd_api.get("/contexts", params={"kind": "pipeline", "name": pipeline}).json()
    assert len(pipelines["items"]) == 1
    # The explorer lists runs from the same contexts; its page answers.
    assert httpx.get(f"{mlmd_server.url}/ui/", timeout=30).status_code == 200
