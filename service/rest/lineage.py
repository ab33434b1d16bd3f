"""/api/v1/lineage/{artifact|execution}/{id}"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from mlledger.store import entities

from ..deps import DB, AppSettings, Caller
from ..domain import lineage
from .schemas import ERRORS

router = APIRouter(prefix="/lineage", tags=["lineage"], responses=ERRORS)


class LineageNodeOut(BaseModel):
    id: str
    type: Literal["artifact", "execution"]
    kind: str
    name: str
    version: int | None
    state: str
    depth: int


class LineageEdgeOut(BaseModel):
    source: str
    target: str
    type: Literal["INPUT", "OUTPUT"]


class LineageOut(BaseModel):
    root: str
    nodes: list[LineageNodeOut]
    edges: list[LineageEdgeOut]
    truncated: bool

    @classmethod
    def of(cls, g: entities.LineageGraph) -> LineageOut:
        return cls(
            root=g.root,
            nodes=[
                LineageNodeOut(
                    id=n.key,
                    type=n.type,
                    kind=n.kind,
                    name=n.name,
                    version=n.version,
                    state=n.state,
                    depth=n.depth,
                )
                for n in g.nodes
            ],
            edges=[LineageEdgeOut(source=e.source, target=e.target, type=e.type) for e in g.edges],
            truncated=g.truncated,
        )


@router.get("/{node_type}/{node_id}", operation_id="getLineage", response_model=LineageOut)
def get_lineage(
    node_type: Literal["artifact", "execution"],
    node_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    db: DB,
    who: Caller,
    settings: AppSettings,
    direction: Literal["upstream", "downstream", "both"] = "both",
    depth: Annotated[
        int | None,
        Query(ge=1, le=100, description="Edges from the root; default from settings."),
    ] = None,
) -> LineageOut:
    """The graph around a node: INPUT edges run artifact -> execution, OUTPUT edges
    execution -> artifact. `truncated` is true when the node limit cut it short."""
    graph = lineage.get(
        db,
        who,
        node_type,
        node_id,
        direction=direction,
        depth=depth if depth is not None else settings.lineage.default_depth,
        max_depth=settings.lineage.max_depth,
        max_nodes=settings.lineage.max_nodes,
    )
    return LineageOut.of(graph)
