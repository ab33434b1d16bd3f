"""What the client's reads return: typed, immutable views of the server's answers.

Each mirrors one REST response schema field for field (tests/client/test_results.py compares
them with the server's OpenAPI document), so `run.metrics[0].value` is checked by mypy rather
than `run["metrics"][0]["value"]` failing at run time. Fields a newer server adds are ignored,
so an older client keeps working against it; `raw` keeps the answer as it came.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _float(value: Any) -> Any:
    """proto3 JSON's non-finite doubles ("NaN", "Infinity") as floats."""
    return _NON_FINITE.get(value, value) if isinstance(value, str) else value


Float = Annotated[float, BeforeValidator(_float)]

# The packed form of a metric history the server sends when asked (MetricHistory.unpack).
HISTORY_COLUMNS = "application/vnd.mlledger.metric-history"


class Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def of(cls, body: dict[str, Any]) -> Any:
        made = cls.model_validate(body)
        made._raw = body
        return made

    @property
    def raw(self) -> dict[str, Any]:
        """The server's answer as it came (fields this client does not know included)."""
        return self._raw


class Artifact(Result):
    id: int
    kind: str
    name: str
    version: int
    uri: str | None
    fingerprint: str | None
    properties: dict[str, Any]
    state: str
    created_at: datetime


class LatestMetric(Result):
    key: str
    value: Float
    step: int
    timestamp: int = Field(description="Milliseconds since the Unix epoch.")


class RunRecord(Result):
    """A run as the server holds it (`Run` is the live handle training code logs through)."""

    id: int
    uuid: str
    experiment: str
    name: str
    state: str
    params: dict[str, str]
    tags: dict[str, str]
    code_version: str | None
    environment: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None
    deleted_at: datetime | None = None  # deleted (through MLflow's client): still in lineage
    killed: bool = False  # failed because its caller stopped it (MLflow's KILLED)
    metrics: list[LatestMetric]

    def metric(self, key: str) -> float | None:
        """The latest value of `key`, or None when the run never logged it."""
        return next((m.value for m in self.metrics if m.key == key), None)


class MetricHistory(Result):
    """A metric's points in step order, as columns; when `downsampled`, one point per step
    bucket (its mean in `values`, its extremes in `mins` and `maxs`)."""

    key: str
    total: int
    downsampled: bool
    steps: list[int]
    timestamps: list[int]
    values: list[float]
    mins: list[float] | None = None
    maxs: list[float] | None = None

    @classmethod
    def unpack(cls, key: str, body: bytes, headers: Mapping[str, str]) -> MetricHistory:
        """The packed form (`Accept: application/vnd.mlledger.metric-history`): columns of n
        little-endian int64 steps and timestamps, float64 values (and mins, maxs when
        downsampled). `raw` holds the same fields as the JSON answer would."""
        downsampled = headers.get("x-mlledger-downsampled") == "true"
        names = ["steps", "timestamps", "values"] + (["mins", "maxs"] if downsampled else [])
        n, rest = divmod(len(body), 8 * len(names))
        if rest:
            raise ValueError(f"a packed history of {len(body)} bytes is not {len(names)} columns")
        fields: dict[str, Any] = {"key": key, "downsampled": downsampled}
        fields["total"] = int(headers.get("x-mlledger-total", n))
        for i, name in enumerate(names):
            column = array("q" if i < 2 else "d")
            column.frombytes(body[i * 8 * n : (i + 1) * 8 * n])
            if sys.byteorder == "big":
                column.byteswap()
            fields[name] = column.tolist()
        # Built here from typed arrays, so already what validation would make: skip it (it cost
        # a fifth of a 100,000-point read).
        made = cls.model_construct(**fields)
        made._raw = fields
        return made

    @model_validator(mode="before")
    @classmethod
    def _non_finite_columns(cls, data: Any) -> Any:
        """ "NaN"/"Infinity" in a column become floats, a column at a time: a validator per
        point would cost more than the rest of a 100,000-point read."""
        if not isinstance(data, dict):
            return data
        for name in ("values", "mins", "maxs"):
            column = data.get(name)
            if isinstance(column, list) and str in set(map(type, column)):
                data = {**data, name: [_float(v) for v in column]}
        return data


class RegisteredModel(Result):
    id: int
    name: str
    description: str | None
    tags: dict[str, str]
    latest_version: int
    aliases: dict[str, int]
    created_at: datetime
    updated_at: datetime


class ModelVersion(Result):
    id: int
    model: str
    version: int
    artifact_id: int
    run_id: int | None
    description: str | None
    tags: dict[str, str]
    metrics: dict[str, float]
    aliases: list[str]
    created_at: datetime
    stage: str = "None"  # MLflow's deprecated stage
    artifact: Artifact | None = None


class Alias(Result):
    model: str
    alias: str
    version: int | None
    previous_version: int | None


class ModelGate(Result):
    model: str
    revision: int = Field(description="Bumped on every change; blessings hold for one revision.")
    config: dict[str, Any] = Field(description="The gate as set (thresholds, slicing_specs...).")
    updated_at: datetime


class Check(Result):
    """One threshold on one slice: the value, the bound and whether it held."""

    kind: Literal["value", "change", "metric", "slice"]
    slice: str | None
    metric: str | None
    value: float | None = None
    baseline: float | None = None
    diff: float | None = None
    ratio: float | None = None
    bound: str | None = None
    passed: bool
    skipped: bool = False
    message: str


class Dataset(Result):
    id: int
    name: str
    version: int


class Evaluation(Result):
    """A version's evaluation and the blessing decided from it."""

    id: int
    model: str
    version: int
    blessed: bool
    baseline_version: int | None
    gate_revision: int
    dataset: Dataset | None
    checks: list[Check]
    metrics: dict[str, Any] = Field(description="What was submitted: metrics, slices...")
    artifact_id: int
    execution_id: int
    created_at: datetime


class PushReason(Result):
    """Why a push is (or would be) refused; `kind` says which of the other fields apply."""

    kind: str
    message: str
    slice: str | None = None
    metric: str | None = None
    dataset: str | None = None
    dataset_id: int | None = None
    status: str | None = None


class ModelPush(Result):
    """An entry of the push log: a push or rollback, pushed, unchanged or refused."""

    id: int
    model: str
    alias: str
    action: Literal["push", "rollback"]
    version: int | None
    previous_version: int | None
    outcome: Literal["pushed", "refused", "unchanged"]
    reasons: list[PushReason]
    evaluation_id: int | None
    execution_id: int | None
    actor: str
    created_at: datetime


class AnomalyReason(Result):
    """A data gate's finding (TFDV's anomaly): on a feature, or on the dataset (None)."""

    feature: str | None
    kind: str
    severity: str
    message: str


class TrainingDataset(Result):
    id: int
    name: str
    version: int
    status: str = Field(description="passed, failed, error, pending, or none (never validated).")
    reasons: list[AnomalyReason]


class ModelVerdict(Result):
    """Would a push of this version go through, and if not, why."""

    model: str
    version: int
    status: Literal["passed", "blocked", "pending"]
    incumbent: int | None
    evaluation: Evaluation | None
    training_datasets: list[TrainingDataset]
    reasons: list[PushReason]
