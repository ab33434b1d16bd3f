"""GraphQL object types. Nested fields resolve through the request's dataloaders."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from mlledger.store import entities
from mlledger.store.errors import InvalidArgument

from . import explorer
from .context import Ctx
from .limits import MAX_NEIGHBOURS, NEIGHBOURS
from .mapping import from_entity


@strawberry.enum
class Direction(enum.Enum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


def _lineage_field(node_type: entities.NodeType) -> Any:
    """`lineage(direction, depth, maxNodes)` on a node type: the walk from where the query
    stands, by the one resolver `Query.lineage` uses (graphql/lineage.py)."""

    async def lineage(
        root: Any,
        info: Ctx,
        direction: Direction = Direction.BOTH,
        depth: int | None = None,
        max_nodes: int | None = None,
    ) -> Lineage:
        from .lineage import lineage_of  # it builds on the types of this module

        return await lineage_of(info, node_type, root.id, direction, depth, max_nodes)

    return strawberry.field(
        resolver=lineage, description=f"The graph around this {node_type} (as `Query.lineage`)."
    )


@strawberry.type
class EventEdge:
    """An artifact an execution read or wrote, with the role it played."""

    role: str | None
    artifact: Artifact


@strawberry.type
class Context:
    id: int
    kind: str
    name: str
    properties: JSON
    created_at: datetime
    deleted_at: datetime | None

    @classmethod
    def of(cls, c: entities.Context) -> Context:
        return from_entity(cls, c)


@strawberry.type
class Artifact:
    id: int
    kind: str
    name: str
    version: int
    uri: str | None
    fingerprint: str | None
    properties: JSON
    state: str
    created_at: datetime

    @strawberry.field(description="Graph-wide id, e.g. `artifact:12`; pass it to `lineage`.")
    def node_id(self) -> str:
        return entities.node_key("artifact", self.id)

    lineage: Lineage = _lineage_field("artifact")

    @strawberry.field(description="The executions that wrote this artifact (the first `first`).")
    async def producers(self, info: Ctx, first: int = NEIGHBOURS) -> list[Execution]:
        return await _executions(info, self.id, "OUTPUT", neighbours(first))

    @strawberry.field(description="The executions that read this artifact (the first `first`).")
    async def consumers(self, info: Ctx, first: int = NEIGHBOURS) -> list[Execution]:
        return await _executions(info, self.id, "INPUT", neighbours(first))

    @strawberry.field
    async def contexts(self, info: Ctx, first: int = NEIGHBOURS) -> list[Context]:
        found = await info.context.loaders.contexts_of_artifact.load(self.id)
        return [Context.of(c) for c in found[: neighbours(first)]]

    @strawberry.field(
        description="Gate status: a dataset's data gate (passed, failed, error, pending); a "
        "model version's blessed, not_blessed or refused (its last push); else null."
    )
    async def status(self, info: Ctx) -> str | None:
        return await explorer.artifact_status(info, self.id, self.kind)

    @strawberry.field(description="A dataset version's data gate, with its statistics.")
    async def data_gate(self, info: Ctx) -> explorer.DataGate | None:
        return await explorer.data_gate(info, self.id)

    @classmethod
    def of(cls, a: entities.Artifact) -> Artifact:
        return from_entity(cls, a)


@strawberry.type
class Execution:
    id: int
    kind: str
    name: str
    state: str
    params: JSON
    properties: JSON
    code_version: str | None
    environment: JSON
    started_at: datetime
    ended_at: datetime | None
    created_at: datetime

    @strawberry.field(description="Graph-wide id, e.g. `execution:7`; pass it to `lineage`.")
    def node_id(self) -> str:
        return entities.node_key("execution", self.id)

    lineage: Lineage = _lineage_field("execution")

    @strawberry.field(description="What it read (the first `first`).")
    async def inputs(self, info: Ctx, first: int = NEIGHBOURS) -> list[EventEdge]:
        return await _artifacts(info, self.id, "INPUT", neighbours(first))

    @strawberry.field(description="What it wrote (the first `first`).")
    async def outputs(self, info: Ctx, first: int = NEIGHBOURS) -> list[EventEdge]:
        return await _artifacts(info, self.id, "OUTPUT", neighbours(first))

    @strawberry.field
    async def contexts(self, info: Ctx, first: int = NEIGHBOURS) -> list[Context]:
        found = await info.context.loaders.contexts_of_execution.load(self.id)
        return [Context.of(c) for c in found[: neighbours(first)]]

    @classmethod
    def of(cls, e: entities.Execution) -> Execution:
        return from_entity(cls, e)


@strawberry.type
class LineageNode:
    id: str
    type: str
    kind: str
    name: str
    version: int | None
    state: str
    depth: int
    status: str | None = strawberry.field(
        description="Gate status: datasets passed/failed/error/pending; models blessed/"
        "not_blessed/refused; validations their verdict; evaluations blessed/not_blessed; "
        "pushes pushed."
    )

    @strawberry.field
    async def artifact(self, info: Ctx) -> Artifact | None:
        if self.type != "artifact":
            return None
        found = await info.context.loaders.artifact.load(int(self.id.split(":")[1]))
        return Artifact.of(found) if found else None

    @strawberry.field
    async def execution(self, info: Ctx) -> Execution | None:
        if self.type != "execution":
            return None
        found = await info.context.loaders.execution.load(int(self.id.split(":")[1]))
        return Execution.of(found) if found else None


@strawberry.type
class LineageEdge:
    source: str
    target: str
    type: str


@strawberry.type
class Lineage:
    root: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool

    @classmethod
    def of(cls, g: entities.LineageGraph, statuses: dict[str, str] | None = None) -> Lineage:
        statuses = statuses or {}
        return cls(
            root=g.root,
            nodes=[
                LineageNode(
                    id=n.key,
                    type=n.type,
                    kind=n.kind,
                    name=n.name,
                    version=n.version,
                    state=n.state,
                    depth=n.depth,
                    status=statuses.get(n.key),
                )
                for n in g.nodes
            ],
            edges=[LineageEdge(source=e.source, target=e.target, type=e.type) for e in g.edges],
            truncated=g.truncated,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, page: entities.Page[Any]) -> PageInfo:
        return cls(has_next_page=page.next_cursor is not None, end_cursor=page.next_cursor)


@strawberry.type
class ArtifactConnection:
    nodes: list[Artifact]
    page_info: PageInfo


@strawberry.type
class ExecutionConnection:
    nodes: list[Execution]
    page_info: PageInfo


def neighbours(first: int) -> int:
    """A neighbour list's `first`: bounded, since the cost limit counts each list at it."""
    if not 1 <= first <= MAX_NEIGHBOURS:
        raise InvalidArgument(
            f"first must be between 1 and {MAX_NEIGHBOURS}", details={"first": first}
        )
    return first


async def _executions(info: Ctx, artifact_id: int, event_type: str, first: int) -> list[Execution]:
    loaders = info.context.loaders
    evs = [e for e in await loaders.events_of_artifact.load(artifact_id) if e.type == event_type]
    found = await loaders.execution.load_many([e.execution_id for e in evs[:first]])
    return [Execution.of(e) for e in found if e is not None]


async def _artifacts(info: Ctx, execution_id: int, event_type: str, first: int) -> list[EventEdge]:
    loaders = info.context.loaders
    evs = [e for e in await loaders.events_of_execution.load(execution_id) if e.type == event_type]
    evs = evs[:first]
    found: list[Any] = await loaders.artifact.load_many([e.artifact_id for e in evs])
    return [
        EventEdge(role=e.role, artifact=Artifact.of(a))
        for e, a in zip(evs, found, strict=True)
        if a is not None
    ]
