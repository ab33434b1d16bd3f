"""The model gate's contract, typed: the gate configuration (TFMA's MetricThreshold and
SlicingSpec semantics), the checks of an evaluation, and the reasons a push is refused.

REST takes and returns these models as they are, GraphQL shows the same shapes, and the domain
decides with them (thresholds.py, verdicts.py), so a rule or a default lives once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from .schema import Strict, at_least_one

MetricName = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]
Bound = Annotated[float, Field(allow_inf_nan=False)]
Metrics = Annotated[
    dict[MetricName, Annotated[float, Field(allow_inf_nan=False)]],
    Field(min_length=1, max_length=1000),
]
SliceKey = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f=,]+$")]
SliceValue = Annotated[str, Field(max_length=256, pattern=r"^[^\x00-\x1f\x7f,]*$")]


class ValueThreshold(Strict):
    """TFMA GenericValueThreshold: lower_bound ≤ metric ≤ upper_bound."""

    model_config = ConfigDict(json_schema_extra=at_least_one("lower_bound", "upper_bound"))

    lower_bound: Bound | None = None
    upper_bound: Bound | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.lower_bound is None and self.upper_bound is None:
            raise ValueError("a value_threshold needs lower_bound, upper_bound or both")
        if (
            self.lower_bound is not None
            and self.upper_bound is not None
            and self.lower_bound > self.upper_bound
        ):
            raise ValueError(
                f"lower_bound {self.lower_bound} is above upper_bound {self.upper_bound}"
            )
        return self


class ChangeThreshold(Strict):
    """TFMA GenericChangeThreshold against the incumbent: diff = candidate - incumbent must be
    ≥ `absolute` (HIGHER_IS_BETTER; ≤ for LOWER_IS_BETTER), and diff / incumbent likewise
    against `relative`. `absolute: -0.01` with HIGHER_IS_BETTER: may not fall by more than
    0.01."""

    model_config = ConfigDict(json_schema_extra=at_least_one("absolute", "relative"))

    direction: Literal["HIGHER_IS_BETTER", "LOWER_IS_BETTER"]
    absolute: Bound | None = None
    relative: Bound | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.absolute is None and self.relative is None:
            raise ValueError("a change_threshold needs absolute, relative or both")
        return self


class MetricThreshold(Strict):
    model_config = ConfigDict(json_schema_extra=at_least_one("value_threshold", "change_threshold"))

    metric: MetricName
    value_threshold: ValueThreshold | None = None
    change_threshold: ChangeThreshold | None = None

    @model_validator(mode="after")
    def _some(self) -> Self:
        if self.value_threshold is None and self.change_threshold is None:
            raise ValueError(
                f"threshold for {self.metric!r} needs value_threshold, change_threshold or both"
            )
        return self


class SlicingSpec(Strict):
    """TFMA SlicingSpec: `feature_keys: [country]` is every country; `feature_values:
    {country: DE}` is one. The overall slice is always checked."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["feature_keys"], "properties": {"feature_keys": {"minItems": 1}}},
                {
                    "required": ["feature_values"],
                    "properties": {"feature_values": {"minProperties": 1}},
                },
            ]
        }
    )

    feature_keys: list[SliceKey] = Field(default_factory=list, max_length=10)
    feature_values: dict[SliceKey, SliceValue] = Field(default_factory=dict, max_length=10)

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not self.feature_keys and not self.feature_values:
            raise ValueError("a slicing spec needs feature_keys or feature_values")
        both = set(self.feature_keys) & set(self.feature_values)
        if both:
            raise ValueError(f"{sorted(both)} in both feature_keys and feature_values")
        return self


class GateConfig(Strict):
    """A model's gate: what every version must meet to be pushed. Stored as submitted (only
    the fields given), so a GET returns what the PUT sent; the defaults live here alone."""

    thresholds: list[MetricThreshold] = Field(min_length=1, max_length=200)
    slicing_specs: list[SlicingSpec] = Field(default_factory=list, max_length=50)
    min_slice_size: Annotated[int, Field(ge=0, le=2**31 - 1)] = Field(
        0, description="Slices with fewer examples (by example_count) are not checked."
    )
    require_training_data: StrictBool = Field(
        True,
        description="Refuse to push versions with no training dataset in their lineage "
        "(nothing vouches for their data).",
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen: set[str] = set()
        for t in self.thresholds:
            if t.metric in seen:
                raise ValueError(f"metric {t.metric!r} has more than one threshold")
            seen.add(t.metric)
        return self


class Check(BaseModel):
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


class PushReason(BaseModel):
    """One reason a push of a version is (or would be) refused."""

    kind: Literal[
        "no_gate",
        "no_evaluation",
        "threshold",
        "stale_blessing",
        "data_gate",
        "lineage",
        "rollback",
        "unchanged",
    ]
    message: str
    slice: str | None = Field(None, description="threshold: the slice that failed.")
    metric: str | None = Field(None, description="threshold: the metric that failed.")
    dataset: str | None = Field(None, description="data_gate: `name:version`.")
    dataset_id: int | None = Field(None, description="data_gate: the dataset's artifact id.")
    status: str | None = Field(
        None, description="data_gate: failed, error, pending, or none (never validated)."
    )

    def wire(self) -> dict[str, Any]:
        """As the push log stores it and a refusal's details carry it: the fields that apply
        to the kind (responses show the others as null, as their schema says)."""
        return self.model_dump(exclude_none=True)


VerdictStatus = Literal["passed", "blocked", "pending"]
