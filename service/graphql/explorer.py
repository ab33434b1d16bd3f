"""What the lineage explorer reads beyond the graph itself: gate verdicts and statistics of
datasets, blessings and push history of models, metric curves of runs, and name search."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from mlledger.store.entities import Evaluation, Gate, Push
from mlledger.store.errors import FailedPrecondition, NotFound
from mlledger.validation import protos

from ..domain import data_gates as data_gate_cases
from ..domain import model_gates, run_metrics
from ..domain import pushes as push_cases
from .context import Ctx
from .mapping import from_entity


@strawberry.type
class SearchHit:
    node_id: str = strawberry.field(
        description="`artifact:12` / `execution:7` (lineage nodes) or `model:<name>`."
    )
    kind: str
    name: str
    version: int | None
    detail: str | None = strawberry.field(description="A run's experiment.")


@strawberry.type
class DataGate:
    dataset_id: int
    status: str = strawberry.field(description="pending, passed, failed or error.")
    reasons: JSON
    statistics_id: int | None
    schema_id: int | None
    anomalies_id: int | None
    updated_at: datetime

    @strawberry.field(description="Per feature: type, missing, distribution or top values.")
    async def statistics(self, info: Ctx) -> JSON | None:
        if self.statistics_id is None:
            return None
        c = info.context
        _, _, data = await asyncio.to_thread(
            data_gate_cases.content, c.db, c.who, self.statistics_id
        )
        return JSON(protos.summary(data))

    @classmethod
    def of(cls, g: Gate) -> DataGate:
        return cls(
            dataset_id=g.dataset_id,
            status=g.status,
            reasons=JSON(g.reasons),
            statistics_id=g.statistics_id,
            schema_id=g.schema_id,
            anomalies_id=g.anomalies_id,
            updated_at=g.updated_at,
        )


@strawberry.type
class Blessing:
    """An evaluation of a model version and the blessing decided from it."""

    id: int
    blessed: bool
    baseline_version: int | None
    gate_revision: int
    dataset_id: int | None
    artifact_id: int
    execution_id: int
    checks: JSON = strawberry.field(
        description="Per threshold and slice: value, baseline, bound, passed, message."
    )
    metrics: JSON
    created_at: datetime

    @classmethod
    def of(cls, e: Evaluation) -> Blessing:
        return from_entity(cls, e)


@strawberry.type
class PushEntry:
    id: int
    alias: str
    action: str
    version: int | None
    previous_version: int | None
    outcome: str = strawberry.field(description="pushed, refused or unchanged.")
    reasons: JSON
    evaluation_id: int | None = strawberry.field(description="The blessing it went by.")
    execution_id: int | None = strawberry.field(description="The push in the lineage graph.")
    actor: str
    created_at: datetime

    @classmethod
    def of(cls, p: Push) -> PushEntry:
        return from_entity(cls, p)


@strawberry.type(description="A model's gate: what every version must meet to be pushed.")
class ModelGate:
    revision: int = strawberry.field(
        description="Bumped on every change; blessings hold for one revision."
    )
    config: JSON = strawberry.field(
        description="The gate as set: thresholds, slicing_specs, min_slice_size, "
        "require_training_data (as REST's `config`)."
    )
    updated_at: datetime


@strawberry.type
class MetricSeries:
    key: str
    total: int
    downsampled: bool
    steps: list[int]
    timestamps: list[float] = strawberry.field(
        description="Milliseconds since the epoch (past GraphQL's 32-bit Int)."
    )
    values: list[float | None] = strawberry.field(description="null for NaN and infinities.")


def _finite(v: float) -> float | None:
    return v if v == v and v not in (float("inf"), float("-inf")) else None


async def metric_series(info: Ctx, run_id: int, key: str, max_points: int) -> MetricSeries | None:
    c = info.context
    try:
        h = await asyncio.to_thread(
            run_metrics.history, c.db, c.who, str(run_id), key, max_points=max(2, max_points)
        )
    except NotFound:
        return None
    return MetricSeries(
        key=h.key,
        total=h.total,
        downsampled=h.downsampled,
        steps=h.steps,
        timestamps=[float(t) for t in h.timestamps],
        values=[_finite(v) for v in h.values],
    )


async def data_gate(info: Ctx, artifact_id: int) -> DataGate | None:
    found = await info.context.loaders.data_gate.load(artifact_id)
    return DataGate.of(found) if found else None


async def artifact_status(info: Ctx, artifact_id: int, kind: str) -> str | None:
    if kind == "dataset":
        found = await info.context.loaders.data_gate.load(artifact_id)
        return found.status if found else None
    if kind == "model":
        return await info.context.loaders.model_state.load(artifact_id)
    return None


async def blessings(info: Ctx, model: str, version: int, first: int) -> list[Blessing]:
    c = info.context
    try:
        found = await asyncio.to_thread(
            model_gates.evaluations, c.db, c.who, model, version, limit=first
        )
    except NotFound:
        return []
    return [Blessing.of(e) for e, _ in found]


async def push_log(info: Ctx, model: str, first: int) -> list[PushEntry]:
    c = info.context
    page = await asyncio.to_thread(
        push_cases.history, c.db, c.who, model, alias=None, limit=first, cursor=None
    )
    return [PushEntry.of(p) for p in page.items]


async def model_gate(info: Ctx, model: str) -> ModelGate | None:
    c = info.context
    try:
        gate = await asyncio.to_thread(model_gates.get_gate, c.db, c.who, model)
    except (FailedPrecondition, NotFound):  # no gate, or no model: nothing to show
        return None
    return from_entity(ModelGate, gate)
