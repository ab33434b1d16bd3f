"""Impact's walk checked against a brute-force oracle on random DAGs, both databases: the
models downstream of random start sets are the same whichever direction the walk takes
(downstream from the datasets, or upstream from every model) and whatever the caps."""

from __future__ import annotations

import random

from mlledger.service.domain.principal import Principal
from mlledger.store.database import Database
from mlledger.store.entities import Event
from mlledger.store.metadata import artifacts, events, executions, lineage
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.executions import NewExecution


def _oracle(reads: dict[int, set[int]], writes: dict[int, set[int]], start: set[int]) -> set[int]:
    seen, todo = set(start), list(start)
    while todo:
        a = todo.pop()
        for e, ins in reads.items():
            if a in ins:
                for b in writes[e] - seen:
                    seen.add(b)
                    todo.append(b)
    return seen


def test_both_directions_agree_with_the_oracle(db: Database, principal: Principal) -> None:
    rng = random.Random(7)
    project = principal.project_id
    with db.write() as session:
        # Artifacts in a fixed topological order: an execution reads earlier ones and writes
        # later ones, so the graph is a DAG with many paths (and some models unreachable).
        specs = [
            NewArtifact(kind="model" if rng.random() < 0.2 else "dataset", name=f"n{i}")
            for i in range(120)
        ]
        made = [a for a, _ in artifacts.create_many(session, project, specs)]
        runs = executions.create_many(
            session, project, [NewExecution(kind="run", name=f"r{i}") for i in range(90)]
        )
        reads: dict[int, set[int]] = {}
        writes: dict[int, set[int]] = {}
        edges = []
        for run in runs:
            cut = rng.randrange(1, len(made) - 1)
            ins = {made[i].id for i in rng.sample(range(cut), k=min(cut, rng.randint(1, 3)))}
            outs = {made[i].id for i in rng.sample(range(cut, len(made)), k=rng.randint(1, 2))}
            reads[run.id], writes[run.id] = ins, outs
            edges += [Event(run.id, a, "INPUT", None) for a in ins]
            edges += [Event(run.id, a, "OUTPUT", None) for a in outs]
        events.add_many(session, edges)
    models = {a.id for a in made if a.kind == "model"}
    with db.read() as session:
        for _ in range(25):
            start = {a.id for a in rng.sample(made, k=rng.randint(1, 4))}
            want = sorted(_oracle(reads, writes, start) & models)
            for near in (1, 10, 10_000):  # upstream walk, either, downstream walk
                got, cut = lineage.downstream_models(
                    session, project, sorted(start), max_nodes=100_000, near=near
                )
                assert (got, cut) == (want, False), (near, start)
            # Both walks cut short: the downstream walk's answer, marked as cut.
            got, cut = lineage.downstream_models(
                session, project, sorted(start), max_nodes=1, near=1
            )
            assert set(got) <= set(want)
