"""Lineage queries: the graph around one node, bounded by depth and node count."""

from __future__ import annotations

from mlledger.store.database import Database
from mlledger.store.entities import Direction, LineageGraph, NodeType
from mlledger.store.errors import InvalidArgument
from mlledger.store.metadata import lineage

from .principal import Principal


def parse_node_id(node_id: str) -> tuple[NodeType, int]:
    """`artifact:12` -> ("artifact", 12). Raises InvalidArgument for anything else."""
    node_type, _, raw = node_id.partition(":")
    if node_type not in ("artifact", "execution") or not raw.isdigit() or len(raw) > 18:
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
