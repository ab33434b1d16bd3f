"""The lineage answer, shared by `Query.lineage` and the `lineage` field of every artifact and
execution (so a walk can start from wherever a query stands: a model version's artifact, a
run's execution)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry
from strawberry.types.nodes import SelectedField

from mlledger.store.entities import NodeType
from mlledger.store.errors import InvalidArgument

from ..domain import lineage as lineage_cases
from .context import Ctx
from .types import Direction, Lineage

MaxNodes = Annotated[
    int | None,
    strawberry.argument(
        description="Nodes the answer holds at most (default and bound: the server's "
        "`lineage.max_nodes`); the query's cost is counted from it."
    ),
]


def _selects(fields: list[Any], *path: str) -> bool:
    """Whether the selection (fragments included) reaches `path`, e.g. nodes → status."""
    if not path:
        return True
    for f in fields:
        if isinstance(f, SelectedField):
            if f.name == path[0] and _selects(f.selections, *path[1:]):
                return True
        elif _selects(f.selections, *path):  # a fragment: its fields are ours
            return True
    return False


async def lineage_of(
    info: Ctx,
    node_type: NodeType,
    node_id: int,
    direction: Direction,
    depth: int | None,
    max_nodes: int | None,
) -> Lineage:
    c = info.context
    bound = c.settings.lineage.max_nodes
    if max_nodes is not None and not 1 <= max_nodes <= bound:
        raise InvalidArgument(
            f"maxNodes must be between 1 and {bound}", details={"maxNodes": max_nodes}
        )
    graph = await asyncio.to_thread(
        lineage_cases.get,
        c.db,
        c.who,
        node_type,
        node_id,
        direction=direction.value,
        depth=depth if depth is not None else c.settings.lineage.default_depth,
        max_depth=c.settings.lineage.max_depth,
        max_nodes=max_nodes or bound,
    )
    # Statuses cost three queries: only when the query asks for them.
    found = (
        await asyncio.to_thread(lineage_cases.statuses, c.db, c.who, graph)
        if _selects([s for f in info.selected_fields for s in f.selections], "nodes", "status")
        else {}
    )
    return Lineage.of(graph, found)
