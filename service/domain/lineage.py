"""Lineage queries: the graph around one node, bounded by depth and node count."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mlledger.store.data_gates import gates
from mlledger.store.database import Database
from mlledger.store.entities import Direction, LineageGraph, NodeType, node_key
from mlledger.store.errors import InvalidArgument
from mlledger.store.metadata import executions, lineage
from mlledger.store.registry import blessings

from .principal import Principal


def parse_node_id(node_id: str) -> tuple[NodeType, int]:
    """`artifact:12` -> ("artifact", 12). Raises InvalidArgument for anything else."""
    node_type, _, raw = node_id.partition(":")
    if (
        node_type not in ("artifact", "execution")
        or not (raw.isascii() and raw.isdigit())
        or len(raw) > 18
    ):
        raise InvalidArgument(
            f"node id {node_id[:80]!r} is not of the form artifact:<id> or execution:<id>",
            details={"node_id": node_id[:80]},
        )
    return node_type, int(raw)  # type: ignore[return-value]


def get(
    db: Database,
    who: Principal,
    node_type: NodeType,
    node_id: int,
    *,
    direction: Direction,
    depth: int,
    max_depth: int,
    max_nodes: int,
) -> LineageGraph:
    """Raises NotFound for a root outside the caller's project, InvalidArgument for a bad depth."""
    who.require("read")
    if not 1 <= depth <= max_depth:
        raise InvalidArgument(f"depth must be between 1 and {max_depth}", details={"depth": depth})
    with db.read() as session:
        return lineage.walk(
            session,
            who.project_id,
            node_type,
            node_id,
            direction,
            depth=depth,
            max_nodes=max_nodes,
        )


def statuses(db: Database, who: Principal, graph: LineageGraph) -> dict[str, str]:
    """Gate status of every node of a graph, in three queries whatever its size (the explorer
    rings thousands of nodes by it): datasets by their data gate, model versions blessed /
    not_blessed / refused, validations by verdict, evaluations by blessing, pushes."""
    who.require("read")
    datasets = [n.id for n in graph.nodes if n.type == "artifact" and n.kind == "dataset"]
    models = [n.id for n in graph.nodes if n.type == "artifact" and n.kind == "model"]
    runs = [n.id for n in graph.nodes if n.type == "execution" and n.kind in EXECUTION_STATUS]
    with db.read() as session:
        verdicts = gates.get_many(session, who.project_id, datasets) if datasets else {}
        states = model_statuses(session, who.project_id, models) if models else {}
        found = executions.get_many(session, who.project_id, runs) if runs else {}
    out = {node_key("artifact", i): g.status for i, g in verdicts.items()}
    out |= {node_key("artifact", i): s for i, s in states.items()}
    for i, e in found.items():
        status = execution_status(e.kind, e.properties)
        if status is not None:
            out[node_key("execution", i)] = status
    return out


def model_statuses(session: Session, project_id: int, artifact_ids: list[int]) -> dict[int, str]:
    """How the explorer marks model versions: `refused` when the newest push of the version
    was refused, else `blessed` / `not_blessed` by its newest evaluation; nothing when it was
    never evaluated (or is not a registry version)."""
    out: dict[int, str] = {}
    for artifact_id, s in blessings.standing_of_artifacts(
        session, project_id, artifact_ids
    ).items():
        if s.last_push == "refused":
            out[artifact_id] = "refused"
        elif s.blessed is not None:
            out[artifact_id] = "blessed" if s.blessed else "not_blessed"
    return out


EXECUTION_STATUS = ("validation", "evaluation", "push")


def execution_status(kind: str, properties: dict[str, Any]) -> str | None:
    if kind == "validation":
        return properties.get("verdict")
    if kind == "evaluation" and "blessed" in properties:
        return "blessed" if properties["blessed"] else "not_blessed"
    if kind == "push":
        return "pushed"
    return None
