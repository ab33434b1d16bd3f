"""/api/v1/runs: what the training client writes, and run search."""

from __future__ import annotations

import math
import uuid as uuids
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    model_validator,
)

from mlledger.store.entities import PackedHistory
from mlledger.store.tracking.runs import NewRun
from mlledger.store.tracking.search_cursor import SEARCH_CURSOR_PATTERN

from ..deps import DB, Caller
from ..domain import run_metrics, runs
from ..domain.run_metrics import MAX_POINTS_PER_BATCH, MetricBatch
from .artifacts import to_new
from .routing import OrjsonBodyRoute
from .schemas import (
    ERRORS,
    ArtifactIn,
    ArtifactOut,
    EntityOut,
    Int64,
    JsonObject,
    Key,
    MetricValue,
    Millis,
    Name,
    NonFinite,
    PageOut,
    Params,
    RunUuid,
    Strict,
    Tags,
    wire_float,
)


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
    deleted_at: datetime | None = Field(
        None, description="When the run was deleted (MLflow's delete_run): it stays in lineage."
    )
    killed: bool = Field(False, description="Failed because its caller stopped it (MLflow KILLED).")
    metrics: list[LatestMetricOut] = Field(
        description="The latest value of each metric key (read with the run: domain/runs.py)."
    )


class MetricBatchIn(Strict):
    """Points as parallel columns (point i is keys[i], values[i], steps[i], timestamps[i]).

    Non-finite values are the strings "NaN", "Infinity", "-Infinity" (proto3 JSON)."""

    keys: Annotated[list[Key], Field(min_length=1, max_length=MAX_POINTS_PER_BATCH)]
    values: Annotated[list[MetricValue], Field(max_length=MAX_POINTS_PER_BATCH)]
    steps: Annotated[list[Int64], Field(max_length=MAX_POINTS_PER_BATCH)]
    timestamps: Annotated[list[Millis], Field(max_length=MAX_POINTS_PER_BATCH)] = Field(
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


router = APIRouter(prefix="/runs", tags=["runs"], responses=ERRORS)
ingest = APIRouter(route_class=OrjsonBodyRoute)  # included in `router`, at the end

HISTORY_COLUMNS = "application/vnd.mlledger.metric-history"

RunRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_\-.:]+$",
        description="The run's uuid, or its execution id.",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=8,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Unique per logical write (the client sends a UUID): a retry with the same "
        "key is answered without being applied twice.",
    ),
]
_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


@router.post(
    "",
    operation_id="createRun",
    status_code=201,
    response_model=RunOut,
    responses={200: {"model": RunOut, "description": "A run with this uuid exists: attached"}},
)
def create_run(body: RunIn, db: DB, who: Caller, response: Response) -> RunOut:
    """Start a run in an experiment (created on first use)."""
    run_uuid = body.uuid or str(uuids.uuid4())
    view, created = runs.create(
        db,
        who,
        NewRun(
            uuid=run_uuid,
            experiment=body.experiment,
            name=body.name or run_uuid,
            params=body.params,
            tags=body.tags,
            code_version=body.code_version,
            environment=body.environment,
            started_at=body.started_at,
        ),
    )
    if not created:
        response.status_code = 200
    return RunOut.of(view)


@router.get("", operation_id="searchRuns", response_model=PageOut[RunOut])
def search_runs(
    db: DB,
    who: Caller,
    experiment: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006
    filter: Annotated[
        str | None,
        Query(
            max_length=4000,
            description='e.g. `metrics.auc > 0.9 and params.lr = "0.1" and tags.team = "risk"`',
        ),
    ] = None,
    order_by: Annotated[
        str | None, Query(max_length=1000, description="e.g. `metrics.auc desc, name`")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=SEARCH_CURSOR_PATTERN,
            description="`next_cursor` of the previous page. Newest-first and one-metric orders "
            "continue from the last row's place (40 digits), others by offset; any digit "
            "string is a page.",
        ),
    ] = None,
) -> PageOut[RunOut]:
    """Runs matching a filter, newest first unless ordered otherwise."""
    page = runs.search(
        db,
        who,
        experiments=experiment,
        filter=filter,
        order_by=order_by,
        limit=limit,
        cursor=cursor,
    )
    return PageOut(items=[RunOut.of(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/{run}", operation_id="getRun", response_model=RunOut)
def get_run(run: RunRef, db: DB, who: Caller) -> RunOut:
    return RunOut.of(runs.get(db, who, run))


@router.patch("/{run}", operation_id="updateRun", response_model=RunOut)
def update_run(run: RunRef, body: RunPatch, db: DB, who: Caller) -> RunOut:
    """End the run, add params, set or remove tags. `failed` is final; a param never changes."""
    updated = runs.update(
        db,
        who,
        run,
        state=body.state,
        ended_at=body.ended_at,
        params=body.params,
        tags=body.tags,
        remove_tags=body.remove_tags,
    )
    return RunOut.of(updated)


@ingest.post("/{run}/metrics", operation_id="logMetrics", response_model=MetricBatchOut)
def log_metrics(
    run: RunRef,
    body: MetricBatchIn,
    db: DB,
    who: Caller,
    idempotency_key: IdempotencyKey = None,
) -> MetricBatchOut:
    """Append up to 100,000 points, stored as one chunk per key."""
    values = [_NON_FINITE[v] if isinstance(v, str) else v for v in body.values]
    result = run_metrics.log_metrics(
        db,
        who,
        run,
        MetricBatch(body.keys, values, body.steps, body.timestamps),
        idempotency_key,
    )
    return MetricBatchOut(accepted=int(result["accepted"]), duplicate=bool(result["duplicate"]))


@router.get("/{run}/metrics", operation_id="latestMetrics", response_model=list[LatestMetricOut])
def latest_metrics(run: RunRef, db: DB, who: Caller) -> list[LatestMetricOut]:
    return [LatestMetricOut.of(m) for m in run_metrics.latest_metrics(db, who, run)]


@router.get(
    "/{run}/metrics/{key:path}",
    operation_id="metricHistory",
    responses={
        200: {
            "model": MetricHistoryOut,
            "description": "Columns: steps, timestamps, values (and mins, maxs when "
            f"downsampled). With `Accept: {HISTORY_COLUMNS}`, the same columns packed: n "
            "little-endian int64 steps, n int64 timestamps, n float64 values (then n float64 "
            "mins and n maxs when downsampled); `X-Mlledger-Total` and "
            "`X-Mlledger-Downsampled` carry the rest.",
            "content": {HISTORY_COLUMNS: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def metric_history(
    run: RunRef,
    key: Annotated[str, Path(min_length=1, max_length=250, pattern=r"^[\w\-. /:]+$")],
    db: DB,
    who: Caller,
    max_points: Annotated[int, Query(ge=2, le=1_000_000)] = 100_000,
    min_step: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
    max_step: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    """A metric's points in step order, as columns. Above `max_points`, the steps are split into
    `max_points` equal buckets: each bucket's mean, min and max (spikes stay visible)."""
    if accept is not None and HISTORY_COLUMNS in accept:
        return _packed(
            run_metrics.packed_history(
                db, who, run, key, max_points=max_points, min_step=min_step, max_step=max_step
            )
        )
    h = run_metrics.history(
        db, who, run, key, max_points=max_points, min_step=min_step, max_step=max_step
    )
    body = {
        "key": h.key,
        "total": h.total,
        "downsampled": h.downsampled,
        "steps": h.steps,
        "timestamps": h.timestamps,
        "values": _column(h.values),
    }
    if h.downsampled:
        body["mins"] = _column(h.mins or [])
        body["maxs"] = _column(h.maxs or [])
    # Columns of plain numbers: serialised in C (orjson), without a model per point.
    return Response(orjson.dumps(body), media_type="application/json")


def _packed(h: PackedHistory) -> Response:
    """The history as packed little-endian columns: a 100,000-point read is 2.4 MB of bytes
    copied, not 300,000 numbers printed and parsed (the Python client asks for this)."""
    return Response(
        b"".join(h.columns),
        media_type=HISTORY_COLUMNS,
        headers={
            "X-Mlledger-Total": str(h.total),
            "X-Mlledger-Downsampled": "true" if h.downsampled else "false",
        },
    )


def _column(values: list[float]) -> list[float | str]:
    if all(map(math.isfinite, values)):  # in C: a 100,000-point history costs ~1 ms here
        return values  # type: ignore[return-value]
    return [wire_float(v) for v in values]


def _log_artifact(
    run: str,
    body: RunArtifactIn,
    db: DB,
    who: Caller,
    response: Response,
    direction: Literal["INPUT", "OUTPUT"],
) -> ArtifactOut:
    artifact, created = runs.log_artifact(db, who, run, to_new(body.artifact), direction, body.role)
    if not created:
        response.status_code = 200
    return ArtifactOut.of(artifact)


@router.post(
    "/{run}/inputs",
    operation_id="logRunInput",
    status_code=201,
    response_model=ArtifactOut,
    responses={200: {"model": ArtifactOut, "description": "Same name and content: existing"}},
)
def log_input(
    run: RunRef, body: RunArtifactIn, db: DB, who: Caller, response: Response
) -> ArtifactOut:
    """A dataset (or any artifact) the run read: an INPUT edge in the lineage graph."""
    return _log_artifact(run, body, db, who, response, "INPUT")


@router.post(
    "/{run}/outputs",
    operation_id="logRunOutput",
    status_code=201,
    response_model=ArtifactOut,
    responses={200: {"model": ArtifactOut, "description": "Same name and content: existing"}},
)
def log_output(
    run: RunRef, body: RunArtifactIn, db: DB, who: Caller, response: Response
) -> ArtifactOut:
    """A file the run wrote: an OUTPUT edge."""
    return _log_artifact(run, body, db, who, response, "OUTPUT")


router.include_router(ingest)
