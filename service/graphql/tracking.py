"""GraphQL types of runs and the model registry; nested fields go through the dataloaders."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from mlledger.store import entities
from mlledger.store.errors import NotFound

from ..domain import models as model_cases
from . import explorer
from .context import Ctx
from .limits import MAX_NEIGHBOURS, NEIGHBOURS
from .mapping import from_entity
from .types import Artifact, Execution, PageInfo, neighbours


@strawberry.type
class Metric:
    key: str
    value: float | None = strawberry.field(description="null for NaN (GraphQL has no NaN)")
    step: int
    timestamp: float = strawberry.field(description="Epoch milliseconds.")

    @classmethod
    def of(cls, m: entities.LatestMetric) -> Metric:
        finite = m.value == m.value and m.value not in (float("inf"), float("-inf"))
        return cls(key=m.key, value=m.value if finite else None, step=m.step, timestamp=m.timestamp)


@strawberry.type
class Run:
    id: int
    uuid: str
    experiment: str
    name: str
    state: str
    params: JSON
    tags: JSON
    code_version: str | None
    environment: JSON
    started_at: datetime
    ended_at: datetime | None
    deleted_at: datetime | None
    killed: bool

    @strawberry.field(description="The latest value of each metric (the first `first` keys).")
    async def metrics(self, info: Ctx, first: int = MAX_NEIGHBOURS) -> list[Metric]:
        found = await info.context.loaders.latest_metrics.load(self.id)
        return [Metric.of(m) for m in found[: neighbours(first)]]

    @strawberry.field(description="A metric's points in step order (downsampled above maxPoints).")
    async def history(
        self, info: Ctx, key: str, max_points: int = 2000
    ) -> explorer.MetricSeries | None:
        return await explorer.metric_series(info, self.id, key, min(max_points, 100_000))

    @strawberry.field(description="The run as a lineage node: inputs, outputs, contexts.")
    async def execution(self, info: Ctx) -> Execution | None:
        found = await info.context.loaders.execution.load(self.id)
        return Execution.of(found) if found else None

    @classmethod
    def of(cls, r: entities.Run) -> Run:
        return from_entity(cls, r)


@strawberry.type
class RunConnection:
    nodes: list[Run]
    page_info: PageInfo


@strawberry.type(description="A dataset a model was trained on, with its data gate.")
class TrainingData:
    artifact: Artifact
    data_gate: explorer.DataGate | None = strawberry.field(
        description="null: never validated (a push of the model would be refused)."
    )
    status: str = strawberry.field(description="passed, failed, error, pending, or none.")


async def training_data(info: Ctx, artifact_id: int, first: int) -> list[TrainingData]:
    loaders = info.context.loaders
    datasets = (await loaders.training_datasets.load(artifact_id))[:first]
    found = await loaders.data_gate.load_many([d.id for d in datasets])
    return [
        TrainingData(
            artifact=Artifact.of(a),
            data_gate=explorer.DataGate.of(g) if g else None,
            status=g.status if g else "none",
        )
        for a, g in zip(datasets, found, strict=True)
    ]


@strawberry.type
class ModelVersion:
    id: int
    model: str
    version: int
    artifact_id: int
    run_id: int | None
    description: str | None
    tags: JSON
    metrics: JSON
    aliases: list[str]
    created_at: datetime
    stage: str = strawberry.field(description="MLflow's deprecated stage (None, Staging, ...).")

    @strawberry.field(description="The model artifact: follow its producers to the datasets.")
    async def artifact(self, info: Ctx) -> Artifact | None:
        found = await info.context.loaders.artifact.load(self.artifact_id)
        return Artifact.of(found) if found else None

    @strawberry.field(description="The run that wrote this version.")
    async def run(self, info: Ctx) -> Run | None:
        if self.run_id is None:
            return None
        found = await info.context.loaders.run.load(self.run_id)
        return Run.of(found) if found else None

    @strawberry.field(
        description="The datasets the run that wrote this version read, each with its data "
        "gate: what a push of it goes by besides the blessing."
    )
    async def training_data(self, info: Ctx, first: int = NEIGHBOURS) -> list[TrainingData]:
        return await training_data(info, self.artifact_id, neighbours(first))

    @strawberry.field(description="The newest evaluation and its blessing (what a push goes by).")
    async def blessing(self, info: Ctx) -> explorer.Blessing | None:
        found = await info.context.loaders.newest_evaluation.load(self.id)
        return explorer.Blessing.of(found) if found else None

    @strawberry.field(description="Evaluations, newest first.")
    async def evaluations(self, info: Ctx, first: int = 20) -> list[explorer.Blessing]:
        return await explorer.blessings(info, self.model, self.version, max(1, min(first, 200)))

    @classmethod
    def of(cls, v: entities.ModelVersion) -> ModelVersion:
        return from_entity(cls, v)


@strawberry.type
class RegisteredModel:
    id: int
    name: str
    description: str | None
    tags: JSON
    latest_version: int
    aliases: JSON
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Newest first.")
    async def versions(self, info: Ctx, first: int = 20) -> list[ModelVersion]:
        c = info.context
        page = await asyncio.to_thread(
            model_cases.versions,
            c.db,
            c.who,
            self.name,
            limit=max(1, min(first, 1000)),
            cursor=None,
        )
        return [ModelVersion.of(v) for v in page.items]

    @strawberry.field(description="One version, by number or by alias.")
    async def version(
        self, info: Ctx, number: int | None = None, alias: str | None = None
    ) -> ModelVersion | None:
        c = info.context
        try:
            if alias is not None:
                found = await asyncio.to_thread(model_cases.alias, c.db, c.who, self.name, alias)
            else:
                found = await asyncio.to_thread(
                    model_cases.version, c.db, c.who, self.name, number or self.latest_version
                )
        except NotFound:
            return None
        return ModelVersion.of(found)

    @strawberry.field(description="The push log: pushes, rollbacks and refusals, newest first.")
    async def pushes(self, info: Ctx, first: int = 50) -> list[explorer.PushEntry]:
        return await explorer.push_log(info, self.name, max(1, min(first, 1000)))

    @strawberry.field(description="The model's gate (null: no gate).")
    async def gate(self, info: Ctx) -> explorer.ModelGate | None:
        return await explorer.model_gate(info, self.name)

    @classmethod
    def of(cls, m: entities.RegisteredModel) -> RegisteredModel:
        return from_entity(cls, m)


@strawberry.type
class RegisteredModelConnection:
    nodes: list[RegisteredModel]
    page_info: PageInfo
