"""The GraphQL schema: reads of nodes, pages and lineage. Resolvers call the domain layer."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import QueryDepthLimiter
from strawberry.types import ExecutionResult

from mlledger.store.errors import InvalidArgument, NotFound

from ..domain import artifacts as artifact_cases
from ..domain import executions as execution_cases
from ..domain import lineage as lineage_cases
from ..domain import models as model_cases
from ..domain import runs as run_cases
from ..domain import search as search_cases
from ..settings import Settings
from .context import Ctx
from .errors import DomainErrors
from .explorer import SearchHit
from .impact import ImpactedVersion, impact_of
from .limits import Limits, cost_limit
from .lineage import MaxNodes, lineage_of
from .tracking import RegisteredModel, RegisteredModelConnection, Run, RunConnection
from .types import (
    Artifact,
    ArtifactConnection,
    Context,
    Direction,
    Execution,
    ExecutionConnection,
    Lineage,
    PageInfo,
)


def _first(info: Ctx, first: int) -> int:
    cap = info.context.settings.graphql.max_page
    if not 1 <= first <= cap:
        raise InvalidArgument(f"first must be between 1 and {cap}", details={"first": first})
    return first


@strawberry.type
class Query:
    @strawberry.field
    async def artifact(self, info: Ctx, id: int) -> Artifact | None:
        found = await info.context.loaders.artifact.load(id)
        return Artifact.of(found) if found else None

    @strawberry.field
    async def execution(self, info: Ctx, id: int) -> Execution | None:
        found = await info.context.loaders.execution.load(id)
        return Execution.of(found) if found else None

    @strawberry.field
    async def context(self, info: Ctx, id: int) -> Context | None:
        found = await info.context.loaders.context.load(id)
        return Context.of(found) if found else None

    @strawberry.field(description="Newest first.")
    async def artifacts(
        self,
        info: Ctx,
        kind: str | None = None,
        name: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ArtifactConnection:
        c = info.context
        page = await asyncio.to_thread(
            artifact_cases.list_page,
            c.db,
            c.who,
            kind=kind,
            name=name,
            context_id=None,
            limit=_first(info, first),
            cursor=after,
        )
        return ArtifactConnection(
            nodes=[Artifact.of(a) for a in page.items],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(description="Newest first.")
    async def executions(
        self,
        info: Ctx,
        kind: str | None = None,
        name: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ExecutionConnection:
        c = info.context
        page = await asyncio.to_thread(
            execution_cases.list_page,
            c.db,
            c.who,
            kind=kind,
            name=name,
            state=None,
            context_id=None,
            limit=_first(info, first),
            cursor=after,
        )
        return ExecutionConnection(
            nodes=[Execution.of(e) for e in page.items],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(description="The graph around `nodeId` (e.g. `artifact:12`).")
    async def lineage(
        self,
        info: Ctx,
        node_id: str,
        direction: Direction = Direction.BOTH,
        depth: int | None = None,
        max_nodes: MaxNodes = None,
    ) -> Lineage:
        node_type, raw_id = lineage_cases.parse_node_id(node_id)
        return await lineage_of(info, node_type, raw_id, direction, depth, max_nodes)

    @strawberry.field(description="A run by uuid or execution id.")
    async def run(self, info: Ctx, id: str) -> Run | None:
        c = info.context
        try:
            found = await asyncio.to_thread(run_cases.get, c.db, c.who, id)
        except NotFound:
            return None
        c.loaders.latest_metrics.prime(found.run.id, found.metrics)  # read with the run
        return Run.of(found.run)

    @strawberry.field(description="Search runs: the REST filter language and order.")
    async def runs(
        self,
        info: Ctx,
        experiment: list[str] | None = None,
        filter: str | None = None,
        order_by: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> RunConnection:
        c = info.context
        page = await asyncio.to_thread(
            run_cases.search,
            c.db,
            c.who,
            experiments=experiment or [],
            filter=filter,
            order_by=order_by,
            limit=_first(info, first),
            cursor=after,
        )
        for view in page.items:
            c.loaders.latest_metrics.prime(view.run.id, view.metrics)  # read with the runs
        return RunConnection(
            nodes=[Run.of(v.run) for v in page.items],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(
        description="Names containing `text` (any case): artifacts at their latest version, runs "
        "and registered models; `kinds` narrows (artifact kinds, `run`, `registered_model`)."
    )
    async def search(
        self, info: Ctx, text: str, kinds: list[str] | None = None, first: int = 20
    ) -> list[SearchHit]:
        c = info.context
        hits = await asyncio.to_thread(
            search_cases.search, c.db, c.who, text, kinds or [], _first(info, first)
        )
        return [
            SearchHit(
                node_id=h.node_id, kind=h.kind, name=h.name, version=h.version, detail=h.detail
            )
            for h in hits
        ]

    @strawberry.field(
        description="Every model version downstream of a dataset (by artifactId, or by "
        "OpenLineage's namespace and name), with its gate status and pushes; by model, newest "
        "version first."
    )
    async def impact(
        self,
        info: Ctx,
        artifact_id: int | None = None,
        namespace: str | None = None,
        name: str | None = None,
        first: int = 100,
    ) -> list[ImpactedVersion]:
        return await impact_of(info, artifact_id, namespace, name, first)

    @strawberry.field
    async def model(self, info: Ctx, name: str) -> RegisteredModel | None:
        c = info.context
        try:
            found = await asyncio.to_thread(model_cases.get, c.db, c.who, name)
        except NotFound:
            return None
        return RegisteredModel.of(found)

    @strawberry.field
    async def models(
        self, info: Ctx, name_like: str | None = None, first: int = 50, after: str | None = None
    ) -> RegisteredModelConnection:
        c = info.context
        page = await asyncio.to_thread(
            model_cases.list_models,
            c.db,
            c.who,
            name_like=name_like,
            limit=_first(info, first),
            cursor=after,
        )
        return RegisteredModelConnection(
            nodes=[RegisteredModel.of(m) for m in page.items],
            page_info=PageInfo.of(page),
        )


class BudgetedSchema(strawberry.Schema):
    """A schema whose executions run off the server's event loop and stop at a time budget.

    Resolving a large answer (thousands of lineage nodes, a field each) is CPU work that would
    hold the event loop — and with it every other request, `/health` included — for as long
    as it takes. So each execution runs in a thread of its own, on an event loop of its own
    (its dataloaders bind to that loop on first use). Past the budget the answer is one error
    and nothing more is resolved; work already handed to a database thread finishes there, and
    its result is dropped."""

    def __init__(self, *args: Any, budget_seconds: float, concurrency: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget_seconds = budget_seconds
        # Executions at once per process: more would only share the same cores (and the GIL)
        # and slow everything else down; the rest wait, holding nothing.
        self.slots = asyncio.Semaphore(concurrency)

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:  # type: ignore[override]
        async with self.slots:
            return await asyncio.to_thread(self._off_loop, *args, **kwargs)

    def _off_loop(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        run = super().execute
        try:
            return asyncio.run(asyncio.wait_for(run(*args, **kwargs), self.budget_seconds))
        except TimeoutError:
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"the query ran past its time budget of {self.budget_seconds:g} s; "
                        "ask for less (smaller `first` or `maxNodes`, fewer fields)",
                        extensions={"code": "query_timeout", "budget": self.budget_seconds},
                    )
                ],
            )


def build_schema(settings: Settings) -> strawberry.Schema:
    g = settings.graphql
    limits = Limits(
        max_cost=g.max_complexity,
        max_page=g.max_page,
        max_nodes=settings.lineage.max_nodes,
        max_root_fields=g.max_root_fields,
    )
    return BudgetedSchema(
        query=Query,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=g.max_depth),
            cost_limit(limits),
            DomainErrors,
        ],
        budget_seconds=g.timeout_seconds,
        concurrency=g.max_concurrent,
    )
