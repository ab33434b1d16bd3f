"""Schemas of runs, metrics and the model registry."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from mlledger.store.entities import Artifact, ModelVersion

from .schemas import (
    ArtifactIn,
    ArtifactOut,
    EntityOut,
    Id,
    Int64,
    JsonObject,
    Millis,
    Name,
    Strict,
    Version,
    exactly_one,
)

# As MLflow: letters, digits, underscores, dashes, periods, spaces, slashes (and colons).
Key = Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=r"^[\w\-. /:]+$")]


def _not_all_digits(value: str) -> str:
    if value.isascii() and value.isdigit():
        raise ValueError("a run uuid cannot be all digits: digits address a run by its id")
    return value


RunUuid = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$"),
    AfterValidator(_not_all_digits),
    # The same rule, stated for the OpenAPI (pydantic's regex engine has no lookahead).
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": r"^(?![0-9]+$)[A-Za-z0-9_\-.:]+$",
        }
    ),
]
ModelName = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f/]+$")
]
AliasName = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-.]+$")
]
Text = Annotated[str, StringConstraints(max_length=5000)]


def _param_text(value: Any) -> Any:
    """Params are strings (as in MLflow), so `params.lr = "0.1"` matches whatever type the
    training code passed; numbers and booleans are stored as Python writes them."""
    if isinstance(value, bool | int | float) and not isinstance(value, str):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value} is not a valid param value")
        return str(value)
    return value


ParamValue = Annotated[str, BeforeValidator(_param_text), StringConstraints(max_length=6000)]
Params = Annotated[dict[Key, ParamValue], Field(max_length=1000)]
Tags = Annotated[dict[Key, Text], Field(max_length=1000)]
NonFinite = Literal["NaN", "Infinity", "-Infinity"]
MetricValue = Annotated[float, Field(strict=True)] | NonFinite


class RunIn(Strict):
    uuid: RunUuid | None = Field(
        None,
        description="Client-chosen id (not all digits). Creating a run that exists returns it "
        "(200): retries and other processes of the same job attach to one run.",
    )
    experiment: Name = "default"
    name: Name | None = None
    params: Params = Field(default_factory=dict)
    tags: Tags = Field(default_factory=dict)
    code_version: Annotated[str, StringConstraints(max_length=256)] | None = None
    environment: JsonObject = Field(default_factory=dict)
    started_at: datetime | None = None


class RunPatch(Strict):
    state: Literal["running", "complete", "failed"] | None = None
    ended_at: datetime | None = None
    params: Params = Field(default_factory=dict, description="Added; a param never changes.")
    tags: Tags = Field(default_factory=dict, description="Merged into the run's tags.")
    remove_tags: Annotated[list[Key], Field(max_length=1000)] = Field(default_factory=list)


def wire_float(value: float) -> float | str:
    """Non-finite doubles as proto3's JSON mapping writes them: "NaN", "Infinity"."""
    if math.isfinite(value):
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


class LatestMetricOut(EntityOut):
    key: str
    value: Annotated[float | NonFinite, BeforeValidator(wire_float)]
    step: int
    timestamp: int


class MetricHistoryOut(BaseModel):
    """The schema of a history answer, which the route writes itself (columns of plain
    numbers, encoded without a model per point)."""

    key: str
    total: int = Field(description="Points in the range, before any downsampling.")
    downsampled: bool
    steps: list[int]
    timestamps: list[int] = Field(description="Milliseconds since the Unix epoch.")
    values: list[float | NonFinite] = Field(description="The bucket's mean when downsampled.")
    mins: list[float | NonFinite] | None = Field(None, description="When downsampled.")
    maxs: list[float | NonFinite] | None = Field(None, description="When downsampled.")


class RunOut(EntityOut):
    id: int = Field(description="The run's execution id in the lineage graph.")
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
    metrics: list[LatestMetricOut] = Field(
        description="The latest value of each metric key (read with the run: domain/runs.py)."
    )


class MetricBatchIn(Strict):
    """Points as parallel columns (point i is keys[i], values[i], steps[i], timestamps[i]).

    Non-finite values are the strings "NaN", "Infinity", "-Infinity" (proto3 JSON)."""

    keys: Annotated[list[Key], Field(min_length=1, max_length=10_000)]
    values: Annotated[list[MetricValue], Field(max_length=10_000)]
    steps: Annotated[list[Int64], Field(max_length=10_000)]
    timestamps: Annotated[list[Millis], Field(max_length=10_000)] = Field(
        description="Milliseconds since the Unix epoch."
    )

    @model_validator(mode="after")
    def _same_length(self) -> MetricBatchIn:
        n = len(self.keys)
        if not (len(self.values) == len(self.steps) == len(self.timestamps) == n):
            raise ValueError("keys, values, steps and timestamps must have the same length")
        if n == 0:
            raise ValueError("the batch holds no points")
        return self


class MetricBatchOut(BaseModel):
    accepted: int
    duplicate: bool = Field(
        description="True when this Idempotency-Key was applied before: nothing was added."
    )


class RunArtifactIn(Strict):
    artifact: ArtifactIn
    role: Annotated[str, StringConstraints(max_length=128)] | None = None


class RegisteredModelIn(Strict):
    name: ModelName
    description: Text | None = None
    tags: Tags = Field(default_factory=dict)


class RegisteredModelPatch(Strict):
    description: Text | None = None
    tags: Tags = Field(default_factory=dict)
    remove_tags: Annotated[list[Key], Field(max_length=1000)] = Field(default_factory=list)


class RegisteredModelOut(EntityOut):
    id: int
    name: str
    description: str | None
    tags: dict[str, str]
    latest_version: int
    aliases: dict[str, int]
    created_at: datetime
    updated_at: datetime


def _model_version_rules(schema: dict[str, Any]) -> None:
    schema.update(exactly_one(("artifact",), ("artifact_id",)))
    # A new artifact here is a model: the OpenAPI says so, as the server does.
    artifact = schema["properties"]["artifact"]
    schema["properties"]["artifact"] = {
        "allOf": [artifact, {"properties": {"kind": {"const": "model"}}}]
    }


class ModelVersionIn(Strict):
    model_config = ConfigDict(json_schema_extra=_model_version_rules)

    run: RunUuid | Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")] | None = Field(
        None, description="The run (uuid or id) that wrote the model: the version's lineage."
    )
    artifact: ArtifactIn | None = Field(None, description="A new model artifact (kind model).")
    artifact_id: Id | None = None
    description: Text | None = None
    tags: Tags = Field(default_factory=dict)
    metrics: Annotated[dict[Key, Annotated[float, Field(strict=True)]], Field(max_length=1000)] = (
        Field(default_factory=dict)
    )


class ModelVersionPatch(RegisteredModelPatch):
    pass


class ModelVersionOut(EntityOut):
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
    artifact: ArtifactOut | None = None

    @classmethod
    def with_artifact(cls, v: ModelVersion, artifact: Artifact) -> ModelVersionOut:
        """The version and the model artifact a create made with it."""
        return cls.of(v).model_copy(update={"artifact": ArtifactOut.of(artifact)})


class AliasIn(Strict):
    version: Version
    expected_version: Version | None = Field(
        None,
        description="Compare-and-set: move only if the alias now points at this version "
        "(null: only if it does not exist). Omit to move unconditionally.",
    )


class AliasOut(BaseModel):
    model: str
    alias: str
    version: int | None
    previous_version: int | None
