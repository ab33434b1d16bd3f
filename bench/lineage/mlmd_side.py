"""MLMD's client driving the lineage workload; runs in MLMD's own venv (see run.sh).

Either MLMD's library on its own store (in process, on Postgres or SQLite), or — with
`--grpc host:port` — the same calls sent by MLMD's gRPC client to `mlledger serve --grpc-port`:
the code TFX runs, unchanged, against each. Prints one JSON line: write throughput and lineage
query latencies."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as m

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from workload import lineage_latencies, steps


def connect(args: argparse.Namespace) -> metadata_store.MetadataStore:
    if args.grpc:
        host, port = args.grpc.rsplit(":", 1)
        return metadata_store.MetadataStore(m.MetadataStoreClientConfig(host=host, port=int(port)))
    config = m.ConnectionConfig()
    if args.backend == "postgres":
        config.postgresql.host = "127.0.0.1"
        config.postgresql.port = str(args.pg_port)
        config.postgresql.user = "postgres"
        config.postgresql.dbname = args.pg_db
    else:
        config.sqlite.filename_uri = args.sqlite
        config.sqlite.connection_mode = 3  # READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--pg-port", type=int, default=54329)
    p.add_argument("--pg-db", default="mlmd_bench")
    p.add_argument("--sqlite", default="/tmp/mlmd_bench.db")
    p.add_argument("--grpc", help="host:port of an MLMD gRPC server (mlledger's) instead")
    p.add_argument("--system", help="name reported for the system under test")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--chain", type=int, default=100)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20, help="untimed queries first")
    args = p.parse_args()

    store = connect(args)
    dataset = store.put_artifact_type(m.ArtifactType(name="Dataset"))
    run_type = store.put_execution_type(m.ExecutionType(name="Run"))
    last_output: dict[int, int] = {}

    started = time.perf_counter()
    for step in steps(args.steps, args.chain):
        execution = m.Execution(type_id=run_type, name=f"c{step.chain}-s{step.index}")
        inputs = []
        if step.index:
            inputs.append((m.Artifact(id=last_output[step.chain]), m.Event(type=m.Event.INPUT)))
        fresh = m.Artifact(
            type_id=dataset,
            name=f"fresh-{step.chain}-{step.index}",
            uri=f"file:///fresh/{step.chain}/{step.index}",
        )
        out = m.Artifact(
            type_id=dataset,
            name=f"out-{step.chain}-{step.index}",
            uri=f"file:///out/{step.chain}/{step.index}",
        )
        _, artifact_ids, _ = store.put_execution(
            execution,
            [*inputs, (fresh, m.Event(type=m.Event.INPUT)), (out, m.Event(type=m.Event.OUTPUT))],
            [],
        )
        last_output[step.chain] = artifact_ids[-1]
    write_seconds = time.perf_counter() - started

    def query(artifact_id: int, hops: int) -> int:
        options = m.LineageSubgraphQueryOptions(
            starting_artifacts=m.LineageSubgraphQueryOptions.StartingNodes(
                filter_query=f"id = {artifact_id}"
            ),
            max_num_hops=hops,
            direction=m.LineageSubgraphQueryOptions.UPSTREAM,
        )
        graph = store.get_lineage_subgraph(options)
        return len(graph.artifacts) + len(graph.executions)

    latencies = lineage_latencies(
        query, list(last_output.values()), queries=args.queries, warmup=args.warmup
    )
    print(
        json.dumps(
            {
                "system": args.system or f"MLMD 1.17.1 ({args.backend})",
                "steps": args.steps,
                "nodes": args.steps * 3,
                "write_seconds": write_seconds,
                "nodes_per_s": args.steps * 3 / write_seconds,
                "lineage": latencies,
            }
        )
    )


if __name__ == "__main__":
    main()
