"""Racing MLMD callers, as a pipeline's parallel components are: 100 executions recorded at
once into one new pipeline_run context, and 50 callers creating one context. Nothing is lost or
doubled; a writer that loses a race is told ABORTED, and MLMD's client retries it."""

from __future__ import annotations

from tests._support.mlmd_client import run_mlmd
from tests._support.servers import Server

RACE = """
import threading
run_type = store.put_context_type(pb.ContextType(name="pipeline_run_race"))
trainer = store.put_execution_type(pb.ExecutionType(name="RaceTrainer"))
model = store.put_artifact_type(pb.ArtifactType(name="RaceModel"))
[data] = store.put_artifacts([pb.Artifact(type_id=model, uri="s3://race/data")])
start = threading.Barrier(100)
results, failures = {}, []

def component(i):
    mine = mlmd.MetadataStore(config)  # a component is its own process, with its own channel
    start.wait()
    try:
        e, artifacts, contexts = mine.put_execution(
            pb.Execution(type_id=trainer, name=f"trainer-{i}",
                         last_known_state=pb.Execution.COMPLETE),
            [(pb.Artifact(id=data), pb.Event(type=pb.Event.INPUT)),
             (pb.Artifact(type_id=model, uri=f"s3://race/model-{i}"),
              pb.Event(type=pb.Event.OUTPUT))],
            [pb.Context(type_id=run_type, name="run-2026-12-02")],
            reuse_context_if_already_exist=True,
        )
        results[i] = (e, artifacts[1], contexts[0])
    except Exception as exc:
        failures.append(repr(exc))

threads = [threading.Thread(target=component, args=(i,)) for i in range(100)]
for t in threads: t.start()
for t in threads: t.join()
[ctx] = store.get_contexts_by_type("pipeline_run_race")
out({
    "failures": failures,
    "done": len(results),
    "context_ids": sorted({c for _, _, c in results.values()}),
    "context": ctx.id,
    "executions": len(store.get_executions_by_context(ctx.id)),
    "artifacts": len(store.get_artifacts_by_context(ctx.id)),
    "distinct_executions": len({e for e, _, _ in results.values()}),
    "outputs": sorted(a.uri for a in store.get_artifacts_by_type("RaceModel"))[:2],
    "model_count": len(store.get_artifacts_by_type("RaceModel")),
    "readers_of_data": len([
        ev for ev in store.get_events_by_artifact_ids([data]) if ev.type == pb.Event.INPUT]),
})
"""


def test_a_hundred_components_record_into_one_new_run(mlmd_server: Server) -> None:
    got = run_mlmd(RACE, mlmd_server.grpc_port)  # type: ignore[arg-type]
    assert got["failures"] == []
    assert got["done"] == 100 and got["distinct_executions"] == 100
    assert got["context_ids"] == [got["context"]]  # one run, whoever created it
    assert got["executions"] == 100
    assert got["artifacts"] == 101  # the shared input and every model
    assert got["model_count"] == 101
    assert got["readers_of_data"] == 100


CREATE = """
import threading
kind = store.put_context_type(pb.ContextType(name="race_once"))
start = threading.Barrier(50)
outcomes = []

def create(i):
    mine = mlmd.MetadataStore(config)
    start.wait()
    try:
        [c] = mine.put_contexts([pb.Context(type_id=kind, name="the-one")])
        outcomes.append(("created", c))
    except errors.StatusError as exc:
        outcomes.append((type(exc).__name__, None))

threads = [threading.Thread(target=create, args=(i,)) for i in range(50)]
for t in threads: t.start()
for t in threads: t.join()
out({"outcomes": sorted(o for o, _ in outcomes),
     "stored": [c.id for c in store.get_contexts_by_type("race_once")],
     "created": [c for o, c in outcomes if o == "created"]})
"""


def test_fifty_callers_creating_one_context_make_exactly_one(mlmd_server: Server) -> None:
    got = run_mlmd(CREATE, mlmd_server.grpc_port)  # type: ignore[arg-type]
    assert got["outcomes"] == ["AlreadyExistsError"] * 49 + ["created"]
    assert got["stored"] == got["created"]
