"""A caller who means harm gets a status code naming the problem — INVALID_ARGUMENT,
NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION — never INTERNAL, on both databases."""

from __future__ import annotations

from tests._support.mlmd_client import run_mlmd
from tests._support.servers import Server

HOSTILE = """
import grpc
from ml_metadata.proto import metadata_store_service_pb2 as svc
from ml_metadata.proto import metadata_store_service_pb2_grpc as svc_grpc
stub = svc_grpc.MetadataStoreServiceStub(grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}"))
t = store.put_artifact_type(pb.ArtifactType(name="hostile_t", properties={"n": pb.INT}))
e = store.put_execution_type(pb.ExecutionType(name="hostile_e"))
answers = {}
def code(name, call, request):
    try:
        getattr(stub, call)(request)
        answers[name] = "OK"
    except grpc.RpcError as err:
        answers[name] = err.code().name
filters = {
    "syntax": "name = ",
    "unknown attribute": "colour = 'red'",
    "string for int": "id = 'x'",
    "int for string": "name = 3",
    "past int64": "properties.n.int_value > 99999999999999999999",
    "bad state": "state = SHINY",
    "deep": "(" * 5000 + "id = 1" + ")" * 5000,
    "long": "id IN (" + ", ".join(["1"] * 20000) + ")",
    "unknown alias": "parents_x.name = 'a'",
    "like on int": "id LIKE '1%'",
    "nul": "name = 'a\\x00b'",
}
for name, query in filters.items():
    request = svc.GetArtifactsRequest()
    request.options.filter_query = query
    code(f"filter {name}", "GetArtifacts", request)
request = svc.GetArtifactsRequest()
request.options.next_page_token = "not a token"
code("forged page token", "GetArtifacts", request)
request = svc.GetArtifactsRequest()
request.options.max_result_size = -5
code("negative page size", "GetArtifacts", request)
code("unknown type id", "PutArtifacts",
     svc.PutArtifactsRequest(artifacts=[pb.Artifact(type_id=987654321)]))
code("wrong value type", "PutArtifacts", svc.PutArtifactsRequest(
    artifacts=[pb.Artifact(type_id=t, properties={"n": pb.Value(string_value="x")})]))
code("undeclared property", "PutArtifacts", svc.PutArtifactsRequest(
    artifacts=[pb.Artifact(type_id=t, properties={"zzz": pb.Value(int_value=1)})]))
code("update of a missing id", "PutArtifacts", svc.PutArtifactsRequest(
    artifacts=[pb.Artifact(id=2**62, type_id=t)]))
code("name too long", "PutArtifacts", svc.PutArtifactsRequest(
    artifacts=[pb.Artifact(type_id=t, name="x" * 5000)]))
code("nul in a name", "PutArtifacts", svc.PutArtifactsRequest(
    artifacts=[pb.Artifact(type_id=t, name="a\\x00b")]))
code("nul in a property", "PutArtifacts", svc.PutArtifactsRequest(
    artifacts=[pb.Artifact(type_id=t, custom_properties={"k": pb.Value(string_value="\\x00")})]))
code("type without a name", "PutArtifactType",
     svc.PutArtifactTypeRequest(artifact_type=pb.ArtifactType()))
code("property of no type", "PutArtifactType", svc.PutArtifactTypeRequest(
    artifact_type=pb.ArtifactType(name="hostile_u", properties={"p": pb.UNKNOWN})))
code("event to nothing", "PutEvents", svc.PutEventsRequest(
    events=[pb.Event(artifact_id=2**62, execution_id=2**62, type=pb.Event.INPUT)]))
[a] = store.put_artifacts([pb.Artifact(type_id=t)])
[x] = store.put_executions([pb.Execution(type_id=e)])
[y] = store.put_executions([pb.Execution(type_id=e)])
store.put_events([pb.Event(artifact_id=a, execution_id=x, type=pb.Event.OUTPUT)])
code("event again", "PutEvents", svc.PutEventsRequest(
    events=[pb.Event(artifact_id=a, execution_id=x, type=pb.Event.OUTPUT)]))
[b] = store.put_artifacts([pb.Artifact(type_id=t)])
store.put_events([pb.Event(artifact_id=a, execution_id=y, type=pb.Event.INPUT),
                  pb.Event(artifact_id=b, execution_id=y, type=pb.Event.OUTPUT)])
code("a cycle", "PutEvents", svc.PutEventsRequest(
    events=[pb.Event(artifact_id=b, execution_id=x, type=pb.Event.INPUT)]))
code("lineage without a start", "GetLineageSubgraph", svc.GetLineageSubgraphRequest())
code("negative hops", "GetLineageSubgraph", svc.GetLineageSubgraphRequest(
    lineage_subgraph_query_options=pb.LineageSubgraphQueryOptions(
        starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(filter_query="id > 0"),
        max_num_hops=-1)))
code("too many ids", "GetArtifactsByID",
     svc.GetArtifactsByIDRequest(artifact_ids=list(range(1, 20000))))
code("missing type", "GetArtifactType", svc.GetArtifactTypeRequest(type_name="nope"))
store.put_artifacts([pb.Artifact(type_id=t, name="taken", external_id="taken-ext")])
runs_before = len(store.get_executions_by_type("hostile_e"))
code("a name taken", "PutExecution", svc.PutExecutionRequest(
    execution=pb.Execution(type_id=e),
    artifact_event_pairs=[svc.PutExecutionRequest.ArtifactAndEvent(
        artifact=pb.Artifact(type_id=t, name="taken"), event=pb.Event(type=pb.Event.OUTPUT))]))
code("an external id taken", "PutArtifacts", svc.PutArtifactsRequest(
    artifacts=[pb.Artifact(type_id=t, name="free", external_id="taken-ext")]))
code("a name given twice", "PutArtifacts", svc.PutArtifactsRequest(
    artifacts=[pb.Artifact(type_id=t, name="twice"), pb.Artifact(type_id=t, name="twice")]))
answers["nothing of a refused write"] = (
    len(store.get_executions_by_type("hostile_e")) == runs_before
    and not store.get_artifact_by_type_and_name("hostile_t", "free")
    and not store.get_artifact_by_type_and_name("hostile_t", "twice"))
out(answers)
"""

WANTED = {
    **{
        f"filter {n}": "INVALID_ARGUMENT"
        for n in (
            "syntax",
            "unknown attribute",
            "string for int",
            "int for string",
            "past int64",
            "bad state",
            "deep",
            "long",
            "unknown alias",
            "like on int",
            "nul",
        )
    },
    "forged page token": "INVALID_ARGUMENT",
    "negative page size": "INVALID_ARGUMENT",
    "unknown type id": "NOT_FOUND",
    "wrong value type": "INVALID_ARGUMENT",
    "undeclared property": "INVALID_ARGUMENT",
    "update of a missing id": "INVALID_ARGUMENT",
    "name too long": "INVALID_ARGUMENT",
    "nul in a name": "INVALID_ARGUMENT",
    "nul in a property": "INVALID_ARGUMENT",
    "type without a name": "INVALID_ARGUMENT",
    "property of no type": "INVALID_ARGUMENT",
    "event to nothing": "INVALID_ARGUMENT",
    "event again": "ALREADY_EXISTS",
    "a cycle": "FAILED_PRECONDITION",
    "lineage without a start": "INVALID_ARGUMENT",
    "negative hops": "INVALID_ARGUMENT",
    "too many ids": "INVALID_ARGUMENT",
    "missing type": "NOT_FOUND",
    "a name taken": "ALREADY_EXISTS",
    "an external id taken": "ALREADY_EXISTS",
    "a name given twice": "ALREADY_EXISTS",
    "nothing of a refused write": True,
}


def test_hostile_requests_get_their_status_codes(mlmd_server: Server) -> None:
    assert mlmd_server.grpc_port is not None
    assert run_mlmd(HOSTILE, mlmd_server.grpc_port) == WANTED
