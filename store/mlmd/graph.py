"""The walks behind MLMD's GetLineageGraph and GetLineageSubgraph, over mlledger's edges.

A hop is one event between an artifact and an execution. Downstream from an artifact are the
executions that read it, from an execution the artifacts it wrote; upstream the reverse. A walk in
one direction without stop conditions is one recursive statement (store/metadata/lineage.py);
otherwise it is breadth-first, one statement a hop over the whole frontier. Either refuses
(rather than truncates) an answer larger than the caller's bound.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidArgument
from ..metadata import bulk, lineage
from ..tables.lineage import EventRow

UPSTREAM, DOWNSTREAM, BOTH = 1, 2, 3
MAX_SEEDS = 1000  # more starting nodes walk a hop at a time (the seed is an IN list)


@dataclass
class Reached:
    artifacts: set[int] = field(default_factory=set)
    executions: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.artifacts) + len(self.executions)


def _step(session: Session, ids: set[int], from_artifacts: bool, direction: int) -> set[int]:
    """The nodes one hop from `ids` (all artifacts or all executions)."""
    here = EventRow.artifact_id if from_artifacts else EventRow.execution_id
    there = EventRow.execution_id if from_artifacts else EventRow.artifact_id
    types: list[str] = []
    if direction in (DOWNSTREAM, BOTH):
        types.append("INPUT" if from_artifacts else "OUTPUT")
    if direction in (UPSTREAM, BOTH):
        types.append("OUTPUT" if from_artifacts else "INPUT")
    out: set[int] = set()
    for part in bulk.chunks(sorted(ids)):
        out.update(
            session.scalars(
                select(there).where(here.in_(part), EventRow.type.in_(types)).distinct()
            )
        )
    return out


def walk(
    session: Session,
    artifacts: Set[int],
    executions: Set[int],
    *,
    max_hops: int,
    direction: int = BOTH,
    max_nodes: int,
    stop_artifact: Callable[[set[int]], set[int]] | None = None,
    stop_execution: Callable[[set[int]], set[int]] | None = None,
    keep_stops: bool = True,
) -> Reached:
    """Nodes within `max_hops` of the start. `stop_*` pick, among newly reached nodes, those
    the walk goes no further from (kept in the answer only with `keep_stops`).

    Raises InvalidArgument when more than `max_nodes` nodes are reached.
    """
    one_way = direction in (UPSTREAM, DOWNSTREAM) and not (stop_artifact or stop_execution)
    if one_way and max_hops > 0 and len(artifacts) + len(executions) <= MAX_SEEDS:
        # The common case (TFX's upstream walks) as one recursive statement, not one a hop.
        found = lineage.reach(
            session,
            artifacts,
            executions,
            up=direction == UPSTREAM,
            down=direction == DOWNSTREAM,
            depth=max_hops,
            node_cap=max_nodes + 1,
        )
        if found is not None:
            if len(found[0]) + len(found[1]) > max_nodes:
                raise _too_many(max_nodes)
            return Reached(found[0] | set(artifacts), found[1] | set(executions))
    reached = Reached(set(artifacts), set(executions))
    frontier_a, frontier_e = set(artifacts), set(executions)
    for _ in range(max(max_hops, 0)):
        if not frontier_a and not frontier_e:
            break
        new_e = (
            _step(session, frontier_a, True, direction) - reached.executions
            if frontier_a
            else set()
        )
        new_a = (
            _step(session, frontier_e, False, direction) - reached.artifacts
            if frontier_e
            else set()
        )
        stops_a = stop_artifact(new_a) if stop_artifact and new_a else set()
        stops_e = stop_execution(new_e) if stop_execution and new_e else set()
        reached.artifacts |= new_a if keep_stops else new_a - stops_a
        reached.executions |= new_e if keep_stops else new_e - stops_e
        if len(reached) > max_nodes:
            raise _too_many(max_nodes)
        frontier_a, frontier_e = new_a - stops_a, new_e - stops_e
    return reached


def _too_many(max_nodes: int) -> InvalidArgument:
    return InvalidArgument(
        f"the lineage reaches more than {max_nodes} nodes; ask for fewer hops or narrow the "
        "starting nodes"
    )
