"""/api/v1/lineage — OpenLineage's HTTP transport posts here (its default endpoint), and the
queries over what it sent: the raw events, a dataset by its OpenLineage name (with column
lineage), and impact analysis."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from mlledger.store.errors import InvalidArgument

from ..deps import DB, Caller
from ..domain import impact, openlineage, openlineage_datasets
from ..rest.schemas import ERRORS, ArtifactOut, Cursor, EntityOut, PageOut
from .messages import LineageEventIn, to_event

router = APIRouter(prefix="/lineage", tags=["lineage"], responses=ERRORS)

Text = Annotated[str, Query(min_length=1, max_length=1024)]


class IngestedOut(BaseModel):
    event_id: int | None
    duplicate: bool
    execution_id: int | None
    context_id: int | None
    inputs: list[int]
    outputs: list[int]


@router.post(
    "",
    operation_id="emitLineageEvent",
    status_code=201,
    response_model=IngestedOut,
    responses={200: {"model": IngestedOut, "description": "The same event, stored before"}},
)
def emit(body: LineageEventIn, db: DB, who: Caller, response: Response) -> IngestedOut:
    """An OpenLineage RunEvent, JobEvent or DatasetEvent (spec 2-0-2, facets of any version;
    `Content-Encoding: gzip` welcome), mapped into the graph: a job is a `pipeline` context, a
    run an execution in it, a dataset an artifact series by location (each output a new
    version). The same event again is stored once and answers 200."""
    done = openlineage.ingest(db, who, to_event(body))
    if done.event_id is None:
        response.status_code = 200
    return _out(done)


def _out(done: openlineage.Ingested) -> IngestedOut:
    return IngestedOut(
        event_id=done.event_id,
        duplicate=done.event_id is None,
        execution_id=done.execution_id,
        context_id=done.job_id,
        inputs=done.inputs,
        outputs=done.outputs,
    )


class BatchIngestedOut(BaseModel):
    stored: int
    duplicates: int
    events: list[IngestedOut]


BATCH = TypeAdapter(
    Annotated[list[LineageEventIn], Field(min_length=1, max_length=openlineage.MAX_BATCH)]
)


@router.post(
    "/batch",
    operation_id="emitLineageEvents",
    status_code=201,
    response_model=BatchIngestedOut,
    responses={200: {"model": BatchIngestedOut, "description": "Every event was stored before"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": openlineage.MAX_BATCH,
                        "items": {"$ref": "#/components/schemas/LineageEventIn"},
                    }
                }
            },
        }
    },
)
async def emit_many(request: Request, db: DB, who: Caller, response: Response) -> BatchIngestedOut:
    """Up to 1,000 events (a JSON array, in the order they happened: a producer's backlog, a
    Kafka or file transport replayed) stored and mapped as one transaction — each as `POST
    /lineage` would, at a fraction of the cost an event. One bad event refuses the batch,
    naming it by its index; repeats answer `duplicate` and change nothing."""
    # Read as sent (not through a model's dump): each event is kept verbatim, and a backlog
    # costs one JSON parse and one validation.
    try:
        raw = orjson.loads(await request.body())
        items = BATCH.validate_python(raw)
    except orjson.JSONDecodeError as e:
        problem = {"type": "json_invalid", "loc": ("body", e.pos), "msg": "JSON is invalid"}
        raise RequestValidationError([problem]) from None
    except ValidationError as e:
        raise RequestValidationError(
            [{**p, "loc": ("body", *p["loc"])} for p in e.errors(include_url=False)]
        ) from None
    parsed = []
    for i, (item, event) in enumerate(zip(items, raw, strict=True)):
        try:
            parsed.append(to_event(item, event))
        except InvalidArgument as e:
            details = dict(e.details or {})
            details["field"] = f"[{i}].{details.get('field', '')}".rstrip(".")
            raise InvalidArgument(f"event [{i}]: {e.message}", details=details) from None
    done = await run_in_threadpool(openlineage.ingest_many, db, who, parsed)
    out = [_out(d) for d in done]
    stored = sum(1 for d in out if not d.duplicate)
    if stored == 0:
        response.status_code = 200
    return BatchIngestedOut(stored=stored, duplicates=len(out) - stored, events=out)


class StoredEventOut(EntityOut):
    id: int
    event_kind: str
    event_type: str | None
    event_time: datetime
    run_id: str | None
    job_namespace: str | None
    job_name: str | None
    body: dict[str, Any]
    received_at: datetime


@router.get("/events", operation_id="listLineageEvents", response_model=PageOut[StoredEventOut])
def list_events(
    db: DB,
    who: Caller,
    run_id: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    job_namespace: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
    job_name: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> PageOut[StoredEventOut]:
    """The events as they arrived, newest first; of one run (`run_id`) or one job (both
    `job_namespace` and `job_name`)."""
    if (job_namespace is None) != (job_name is None):
        raise InvalidArgument(
            "name a job by both job_namespace and job_name", details={"field": "job_name"}
        )
    job = (job_namespace, job_name) if job_namespace and job_name else None
    page = openlineage.list_events(db, who, run_id=run_id, job=job, limit=limit, cursor=cursor)
    return PageOut(items=[StoredEventOut.of(e) for e in page.items], next_cursor=page.next_cursor)


class ColumnSourceOut(BaseModel):
    namespace: str
    name: str
    field: str
    transformations: list[dict[str, Any]]


class LineageDatasetOut(BaseModel):
    artifact: ArtifactOut
    location: str
    columns: dict[str, list[ColumnSourceOut]]


def _column_lineage(artifact: Any) -> dict[str, list[ColumnSourceOut]]:
    facet = artifact.properties.get("openlineage", {}).get("facets", {}).get("columnLineage")
    fields = facet.get("fields") if isinstance(facet, dict) else None
    out: dict[str, list[ColumnSourceOut]] = {}
    for column, spec in (fields or {}).items() if isinstance(fields, dict) else []:
        sources = spec.get("inputFields") if isinstance(spec, dict) else None
        out[column] = [
            ColumnSourceOut(
                namespace=str(s["namespace"]),
                name=str(s["name"]),
                field=str(s["field"]),
                transformations=[t for t in s.get("transformations") or [] if isinstance(t, dict)],
            )
            for s in sources or []
            if isinstance(s, dict) and {"namespace", "name", "field"} <= s.keys()
        ]
    return out


@router.get("/datasets", operation_id="getLineageDataset", response_model=LineageDatasetOut)
def get_dataset(db: DB, who: Caller, namespace: Text, name: Text) -> LineageDatasetOut:
    """The newest version of the dataset OpenLineage calls (namespace, name), and which input
    fields each of its columns came from (ColumnLineageDatasetFacet)."""
    artifact = openlineage.dataset_artifact(db, who, namespace, name)
    return LineageDatasetOut(
        artifact=ArtifactOut.of(artifact),
        location=openlineage_datasets.location(namespace, name),
        columns=_column_lineage(artifact),
    )


class PushOut(EntityOut):
    alias: str
    action: str
    outcome: str
    version: int | None
    created_at: datetime


class ImpactedOut(EntityOut):
    model: str
    version: int
    artifact_id: int
    aliases: list[str]
    status: str | None
    gated: bool
    pushes: list[PushOut]


class ImpactOut(BaseModel):
    dataset: ArtifactOut
    versions_walked: list[int]
    models: list[ImpactedOut]
    unregistered_models: list[ArtifactOut]
    truncated: bool


@router.get("/impact", operation_id="getImpact", response_model=ImpactOut)
def get_impact(
    db: DB,
    who: Caller,
    artifact_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    namespace: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
    name: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> ImpactOut:
    """Every model version downstream of a dataset (any of its versions), with its gate status
    and pushes. Name the dataset by `artifact_id` or by OpenLineage's `namespace` and `name`."""
    if artifact_id is None:
        if namespace is None or name is None:
            raise InvalidArgument(
                "name the dataset by artifact_id, or by namespace and name",
                details={"field": "artifact_id"},
            )
        artifact_id = openlineage.dataset_artifact(db, who, namespace, name).id
    found = impact.of_dataset(db, who, artifact_id)
    return ImpactOut(
        dataset=ArtifactOut.of(found.dataset),
        versions_walked=found.versions_walked,
        models=[ImpactedOut.of(m) for m in found.models],
        unregistered_models=[ArtifactOut.of(a) for a in found.unregistered_models],
        truncated=found.truncated,
    )


class ColumnImpactOut(BaseModel):
    derived: list[ArtifactOut]
    models: list[ImpactedOut]
    truncated: bool


@router.get("/column-impact", operation_id="getColumnImpact", response_model=ColumnImpactOut)
def get_column_impact(
    db: DB, who: Caller, namespace: Text, name: Text, field: Text
) -> ColumnImpactOut:
    """Which models' training data used this input field: the dataset versions with a column
    computed from it (ColumnLineageDatasetFacet), and every model version downstream of them."""
    found = impact.of_column(db, who, namespace, name, field)
    return ColumnImpactOut(
        derived=[ArtifactOut.of(a) for a in found.derived],
        models=[ImpactedOut.of(m) for m in found.models],
        truncated=found.truncated,
    )
