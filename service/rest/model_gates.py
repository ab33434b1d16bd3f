"""Model gates over REST: the gate (TFMA-style thresholds), evaluations and their blessings,
and the verdict CI asks for (what a push would decide; pushes themselves: pushes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr, model_validator

from mlledger.store.entities import Artifact, Evaluation, Gate, ModelGate

from ..deps import DB, Caller
from ..domain import model_gates, verdicts
from ..domain.gate_types import (
    Check,
    GateConfig,
    Metrics,
    PushReason,
    SliceKey,
    VerdictStatus,
)
from .data_gates import AnomalyReason, DatasetRef
from .models import ModelPath, VersionPath
from .schemas import ERRORS, EntityOut, Strict

router = APIRouter(prefix="/models", tags=["model gates"], responses=ERRORS)


class ModelGateOut(BaseModel):
    model: str
    revision: int = Field(description="Bumped on every change; blessings hold for one revision.")
    config: GateConfig
    updated_at: datetime

    @classmethod
    def of(cls, name: str, g: ModelGate) -> ModelGateOut:
        return cls(
            model=name,
            revision=g.revision,
            config=model_gates.config_of(g),
            updated_at=g.updated_at,
        )


# Only what was submitted comes back (no added nulls or defaults): GET equals the PUT.
@router.put(
    "/{name}/gate",
    operation_id="setModelGate",
    response_model=ModelGateOut,
    response_model_exclude_unset=True,
)
def set_gate(name: ModelPath, body: GateConfig, db: DB, who: Caller) -> ModelGateOut:
    """Thresholds every version must meet to be pushed (TFMA MetricThreshold semantics)."""
    gate, _ = model_gates.put_gate(db, who, name, body)
    return ModelGateOut.of(name, gate)


@router.get(
    "/{name}/gate",
    operation_id="getModelGate",
    response_model=ModelGateOut,
    response_model_exclude_unset=True,
)
def get_gate(name: ModelPath, db: DB, who: Caller) -> ModelGateOut:
    return ModelGateOut.of(name, model_gates.get_gate(db, who, name))


class SliceMetrics(Strict):
    slice: Annotated[dict[SliceKey, StrictStr | StrictInt | StrictBool], Field(min_length=1)] = (
        Field(max_length=10, description='e.g. {"country": "DE"}')
    )
    metrics: Metrics
    example_count: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None


class EvaluationIn(Strict):
    dataset: DatasetRef | None = Field(
        None,
        description="The evaluation data (artifact id, `name` or `name:version`); the "
        "incumbent is compared on its evaluation of the same dataset.",
    )
    metrics: Metrics
    example_count: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    slices: list[SliceMetrics] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        seen: set[tuple[tuple[str, str], ...]] = set()
        for s in self.slices:
            key = tuple(sorted((k, str(v)) for k, v in s.slice.items()))
            if key in seen:
                raise ValueError(f"slice {dict(key)} is given twice")
            seen.add(key)
        return self


class DatasetOut(EntityOut):
    id: int
    name: str
    version: int


class EvaluationOut(EntityOut):
    id: int
    model: str
    version: int
    blessed: bool
    baseline_version: int | None = Field(description="The incumbent compared against.")
    gate_revision: int
    dataset: DatasetOut | None
    checks: list[Check]
    metrics: dict[str, Any] = Field(
        description="What was submitted: metrics, example_count and slices."
    )
    artifact_id: int = Field(description="The evaluation artifact (its content: the document).")
    execution_id: int
    created_at: datetime

    @classmethod
    def of_version(
        cls, name: str, version: int, e: Evaluation, dataset: Artifact | None
    ) -> EvaluationOut:
        """The evaluation's fields by name, under its model and version, with its dataset."""
        return cls.model_validate(
            {
                **{f: getattr(e, f) for f in cls.model_fields if hasattr(e, f)},
                "model": name,
                "version": version,
                "dataset": DatasetOut.of(dataset) if dataset else None,
            }
        )


@router.post(
    "/{name}/versions/{version}/evaluations",
    operation_id="evaluateModelVersion",
    status_code=201,
    response_model=EvaluationOut,
)
def evaluate(
    name: ModelPath, version: VersionPath, body: EvaluationIn, db: DB, who: Caller
) -> EvaluationOut:
    """Submit a version's metrics (overall and per slice); the blessing is decided against the
    model's gate and the incumbent's evaluation on the same dataset."""
    done = model_gates.evaluate(
        db,
        who,
        name,
        version,
        model_gates.Submitted(
            metrics=body.metrics,
            dataset=body.dataset,
            example_count=body.example_count,
            slices=[s.model_dump() for s in body.slices],
        ),
    )
    return EvaluationOut.of_version(name, version, done.evaluation, done.dataset)


@router.get(
    "/{name}/versions/{version}/evaluations",
    operation_id="listModelEvaluations",
    response_model=list[EvaluationOut],
)
def list_evaluations(
    name: ModelPath,
    version: VersionPath,
    db: DB,
    who: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[EvaluationOut]:
    """Newest first; the first is the one a push goes by."""
    return [
        EvaluationOut.of_version(name, version, e, d)
        for e, d in model_gates.evaluations(db, who, name, version, limit=limit)
    ]


class TrainingDatasetOut(DatasetOut):
    status: str = Field(description="passed, failed, error, pending, or none (never validated).")
    reasons: list[AnomalyReason]

    @classmethod
    def with_gate(cls, a: Artifact, g: Gate | None) -> TrainingDatasetOut:
        return cls(
            id=a.id,
            name=a.name,
            version=a.version,
            status=g.status if g else "none",
            reasons=g.reasons if g else [],
        )


class VerdictOut(BaseModel):
    model: str
    version: int
    status: VerdictStatus
    incumbent: int | None = Field(description="The version holding `production`.")
    evaluation: EvaluationOut | None
    training_datasets: list[TrainingDatasetOut]
    reasons: list[PushReason] = Field(description="Why a push would be refused.")


@router.get(
    "/{name}/versions/{version}/gate", operation_id="getModelVerdict", response_model=VerdictOut
)
def get_verdict(name: ModelPath, version: VersionPath, db: DB, who: Caller) -> VerdictOut:
    """Would a push of this version go through? (What `mlledger gate model` asks.)"""
    v = verdicts.verdict(db, who, name, version)
    sets = {a.id: a for a, _ in v.datasets}
    evaluation = (
        EvaluationOut.of_version(
            name, version, v.evaluation, sets.get(v.evaluation.dataset_id or 0)
        )
        if v.evaluation
        else None
    )
    return VerdictOut(
        model=name,
        version=version,
        status=v.status,
        incumbent=v.incumbent,
        evaluation=evaluation,
        training_datasets=[TrainingDatasetOut.with_gate(a, g) for a, g in v.datasets],
        reasons=v.reasons,
    )
