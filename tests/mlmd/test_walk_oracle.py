"""MLMD's lineage walk (store/mlmd/graph.py) checked against a brute-force oracle on random DAGs,
both databases: the one-statement walk (one direction, no ending conditions), the
hop-at-a-time walk it falls back to, and the node limit all give the same answer."""

from __future__ import annotations

import random

import pytest

from mlledger.service.domain.principal import Principal
from mlledger.store.database import Database
from mlledger.store.entities import Event
from mlledger.store.errors import InvalidArgument
from mlledger.store.metadata import artifacts, events, executions
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.executions import NewExecution
from mlledger.store.mlmd import graph


def _oracle(
    edges: list[Event], artifacts: set[int], executions: set[int], hops: int, direction: int
) -> tuple[set[int], set[int]]:
    """Breadth-first over the edges in memory; a hop is one event."""
    nxt: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for e in edges:
        a, x = ("a", e.artifact_id), ("e", e.execution_id)
        source, target = (a, x) if e.type == "INPUT" else (x, a)  # data flows source -> target
        if direction in (graph.DOWNSTREAM, graph.BOTH):
            nxt.setdefault(source, set()).add(target)
        if direction in (graph.UPSTREAM, graph.BOTH):
            nxt.setdefault(target, set()).add(source)
    seen = {("a", i) for i in artifacts} | {("e", i) for i in executions}
    frontier = set(seen)
    for _ in range(hops):
        frontier = {m for n in frontier for m in nxt.get(n, ())} - seen
        seen |= frontier
    return {i for t, i in seen if t == "a"}, {i for t, i in seen if t == "e"}


def test_walks_agree_with_the_oracle(db: Database, principal: Principal) -> None:
    rng = random.Random(11)
    project = principal.project_id
    with db.write() as session:
        made = [
            a
            for a, _ in artifacts.create_many(
                session, project, [NewArtifact(kind="dataset", name=f"w{i}") for i in range(80)]
            )
        ]
        runs = executions.create_many(
            session, project, [NewExecution(kind="run", name=f"w{i}") for i in range(60)]
        )
        edges: list[Event] = []
        for run in runs:  # reads earlier artifacts, writes later ones: a DAG with many paths
            cut = rng.randrange(1, len(made) - 1)
            for i in rng.sample(range(cut), k=min(cut, rng.randint(1, 3))):
                edges.append(Event(run.id, made[i].id, "INPUT", None))
            for i in rng.sample(range(cut, len(made)), k=rng.randint(1, 2)):
                edges.append(Event(run.id, made[i].id, "OUTPUT", None))
        events.add_many(session, edges)
    with db.read() as session:
        for _ in range(30):
            start_a = {a.id for a in rng.sample(made, k=rng.randint(0, 3))}
            start_e = {r.id for r in rng.sample(runs, k=rng.randint(0 if start_a else 1, 2))}
            hops = rng.choice([1, 2, 5, 20])
            for direction in (graph.UPSTREAM, graph.DOWNSTREAM, graph.BOTH):
                want = _oracle(edges, start_a, start_e, hops, direction)
                got = graph.walk(
                    session, start_a, start_e, max_hops=hops, direction=direction, max_nodes=10**5
                )
                assert (got.artifacts, got.executions) == want, (direction, hops)
                # The hop-at-a-time walk (what a stop condition takes) agrees too.
                stepped = graph.walk(
                    session,
                    start_a,
                    start_e,
                    max_hops=hops,
                    direction=direction,
                    max_nodes=10**5,
                    stop_artifact=lambda ids: set(),
                )
                assert (stepped.artifacts, stepped.executions) == want
                size = len(want[0]) + len(want[1])
                if size > 1:  # one node fewer than the answer: refused, not cut
                    with pytest.raises(InvalidArgument, match="reaches more than"):
                        graph.walk(
                            session,
                            start_a,
                            start_e,
                            max_hops=hops,
                            direction=direction,
                            max_nodes=size - 1,
                        )
