"""Data gates over REST: request a validation, the worker protocol (lease, heartbeat, result),
verdicts, stored protos, curated schemas and their diff."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, StrictStr

from mlledger.store.entities import Artifact, Gate, Job
from mlledger.store.errors import InvalidArgument
from mlledger.validation import protos

from ..deps import DB, Caller
from ..domain import data_gates as cases
from .schemas import ERRORS, ArtifactOut, Id, Name, PathVersion, Strict

router = APIRouter(tags=["validation"], responses=ERRORS)

DatasetRef = Id | Annotated[StrictStr, Field(min_length=1, max_length=300)]
Worker = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
LeaseSeconds = Annotated[float, Field(ge=5, le=3600)]
Profile = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")]
LeaseSecret = Annotated[
    str,
    Field(
        min_length=20,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `secret` the lease returned.",
    ),
]
Threshold = Annotated[float, Field(gt=0, le=1)]


class Thresholds(Strict):
    default: Threshold | None = Field(
        None, description="For every feature the schema gives no comparator."
    )
    features: dict[Annotated[str, Field(max_length=256)], Threshold] = Field(default_factory=dict)


class JobIn(Strict):
    dataset: DatasetRef = Field(description="Artifact id, or `name` (latest) / `name:version`.")
    serving_dataset: DatasetRef | None = Field(
        None, description="Serving data to measure skew against (e.g. a served-vector log)."
    )
    environment: Literal["TRAINING", "SERVING"] | None = None
    drift: Thresholds | None = Field(
        None,
        description="Against the previous version: L-infinity (categorical) / Jensen-Shannon "
        "(numeric) bounds.",
    )
    skew: Thresholds | None = Field(None, description="Against `serving_dataset`, likewise.")
    beam: bool | None = Field(
        None, description="Statistics by a Beam pipeline (default: above 1M rows)."
    )
    profile: Profile = Field(
        "direct",
        description="Runner profile of the workers' configuration (`direct`, or one an operator "
        "defined, e.g. `flink`): a job picks a profile by name and carries no runner or "
        "pipeline options of its own. Only a worker with this profile takes the job.",
    )
    rerun: bool = Field(False, description="Validate again even if a verdict exists.")


class JobOut(BaseModel):
    id: int
    dataset_id: int
    state: str
    options: dict[str, Any]
    profile: str
    attempts: int
    worker: str | None
    lease_expires_at: datetime | None
    error: str | None
    execution_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, j: Job) -> JobOut:
        return cls.model_validate(j, from_attributes=True)


class AnomalyReason(BaseModel):
    feature: str | None
    kind: str
    severity: str
    message: str


class DataGateOut(BaseModel):
    dataset: ArtifactOut
    status: Literal["none", "pending", "passed", "failed", "error"]
    reasons: list[AnomalyReason]
    job: JobOut | None
    statistics_id: int | None
    schema_id: int | None
    anomalies_id: int | None
    updated_at: datetime | None

    @classmethod
    def of(cls, dataset: Artifact, gate: Gate | None, job: Job | None) -> DataGateOut:
        return cls(
            dataset=ArtifactOut.of(dataset),
            status=gate.status if gate else "none",  # type: ignore[arg-type]
            reasons=[AnomalyReason(**r) for r in gate.reasons] if gate else [],
            job=JobOut.of(job) if job else None,
            statistics_id=gate.statistics_id if gate else None,
            schema_id=gate.schema_id if gate else None,
            anomalies_id=gate.anomalies_id if gate else None,
            updated_at=gate.updated_at if gate else None,
        )


@router.post(
    "/validation/jobs",
    operation_id="requestValidation",
    status_code=202,
    response_model=JobOut,
    responses={200: {"description": "A job for this dataset version already exists"}},
)
def request_validation(body: JobIn, db: DB, who: Caller, response: Response) -> JobOut:
    """Queue the data gate of a dataset version; a worker picks it up."""
    options = body.model_dump(exclude={"dataset", "rerun", "profile"}, exclude_none=True)
    job, _, new = cases.request(
        db, who, body.dataset, options, profile=body.profile, rerun=body.rerun
    )
    if not new:
        response.status_code = 200
    return JobOut.of(job)


@router.get("/validation/jobs/{job_id}", operation_id="getValidationJob", response_model=JobOut)
def get_job(job_id: Annotated[int, Path(ge=1, le=2**63 - 1)], db: DB, who: Caller) -> JobOut:
    return JobOut.of(cases.get_job(db, who, job_id))


class LeaseIn(Strict):
    worker: Worker
    lease_seconds: LeaseSeconds = 60.0
    profiles: list[Profile] = Field(
        default_factory=lambda: ["direct"],
        min_length=1,
        max_length=50,
        description="The runner profiles this worker has; it is given only jobs of these.",
    )


class RenewIn(Strict):
    worker: Worker
    lease: LeaseSecret
    lease_seconds: LeaseSeconds = 60.0


class LeaseOut(BaseModel):
    id: int
    secret: str = Field(description="Proof of this lease: renewals and the result carry it.")
    dataset: ArtifactOut
    options: dict[str, Any]
    profile: str
    attempts: int
    lease_expires_at: datetime | None
    schema_: str | None = Field(None, alias="schema", description="base64 Schema to hold to")
    previous_statistics: str | None = Field(None, description="base64, for drift")
    serving: ArtifactOut | None = None

    model_config = {"populate_by_name": True}


@router.post(
    "/validation/jobs/lease",
    operation_id="leaseValidationJob",
    response_model=LeaseOut,
    response_model_by_alias=True,
    responses={204: {"description": "No job is waiting"}},
)
def lease(body: LeaseIn, db: DB, who: Caller) -> Any:
    """For workers (scope `worker`): the oldest waiting job of one of the worker's profiles
    (or one whose worker stopped renewing its lease), with the lease's secret."""
    got = cases.lease(db, who, body.worker, body.lease_seconds, body.profiles)
    if got is None:
        return Response(status_code=204)
    b64 = lambda d: base64.b64encode(d).decode() if d is not None else None  # noqa: E731
    return LeaseOut(
        id=got.job.id,
        secret=got.secret,
        dataset=ArtifactOut.of(got.dataset),
        options=got.job.options,
        profile=got.job.profile,
        attempts=got.job.attempts,
        lease_expires_at=got.job.lease_expires_at,
        schema=b64(got.schema),
        previous_statistics=b64(got.previous_statistics),
        serving=ArtifactOut.of(got.serving) if got.serving else None,
    )


@router.post(
    "/validation/jobs/{job_id}/heartbeat",
    operation_id="renewValidationLease",
    response_model=JobOut,
)
def heartbeat(
    job_id: Annotated[int, Path(ge=1, le=2**63 - 1)], body: RenewIn, db: DB, who: Caller
) -> JobOut:
    """For workers: extend the lease (only its holder, with its secret)."""
    return JobOut.of(cases.heartbeat(db, who, job_id, body.worker, body.lease, body.lease_seconds))


Base64 = Annotated[str, Field(max_length=200_000_000, pattern=r"^[A-Za-z0-9+/=\s]*$")]


class ResultIn(Strict):
    worker: Worker
    lease: LeaseSecret
    statistics: Base64 | None = None
    anomalies: Base64 | None = None
    inferred_schema: Base64 | None = None
    error: Annotated[str, Field(min_length=1, max_length=4000)] | None = None


@router.post(
    "/validation/jobs/{job_id}/result", operation_id="reportValidation", response_model=DataGateOut
)
def report(
    job_id: Annotated[int, Path(ge=1, le=2**63 - 1)], body: ResultIn, db: DB, who: Caller
) -> DataGateOut:
    """For workers: the protos (base64) or the data error, with the lease's secret; the
    verdict is decided here."""
    dataset, gate, job = cases.report(db, who, job_id, cases.Report(**body.model_dump()))
    return DataGateOut.of(dataset, gate, job)


@router.get("/datasets/{dataset:path}/gate", operation_id="getDataGate", response_model=DataGateOut)
def get_gate(dataset: Annotated[str, Path(max_length=300)], db: DB, who: Caller) -> DataGateOut:
    """The verdict on a dataset version (`id`, `name` for the latest, or `name:version`)."""
    ref: int | str = (
        int(dataset) if dataset.isascii() and dataset.isdigit() and len(dataset) <= 19 else dataset
    )
    found, gate, job = cases.gate(db, who, ref)
    return DataGateOut.of(found, gate, job)


@router.get(
    "/artifacts/{artifact_id}/content",
    operation_id="getArtifactContent",
    responses={200: {"content": {"application/x-protobuf": {}, "application/json": {}}}},
)
def get_content(
    artifact_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    db: DB,
    who: Caller,
    format: Annotated[Literal["binary", "json"], Query()] = "binary",
) -> Response:
    """A stored artifact's bytes (statistics, schemas, anomalies as protos; evaluations as
    JSON); `format=json` renders a proto as JSON."""
    artifact, media_type, data = cases.content(db, who, artifact_id)
    if format == "json" and media_type != "application/json":
        if artifact.kind not in protos.MESSAGES:
            raise InvalidArgument(f"a {artifact.kind} artifact has no JSON rendering")
        rendered = orjson.dumps(protos.to_json(artifact.kind, data))
        return Response(rendered, media_type="application/json")
    return Response(data, media_type=media_type)


@router.put(
    "/datasets/{dataset}/schema",
    operation_id="uploadSchema",
    status_code=201,
    response_model=ArtifactOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
                    }
                },
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_schema(
    dataset: Annotated[Name, Path()], request: Request, db: DB, who: Caller
) -> ArtifactOut:
    """A curated schema (TFDV text format, JSON or binary) for a dataset name: the next
    version of `<dataset>.schema`, used by the next validations."""
    body = await request.body()
    made = await asyncio.to_thread(
        cases.upload_schema, db, who, dataset, body, request.headers.get("content-type", "")
    )
    return ArtifactOut.of(made)


class SchemaDiffOut(BaseModel):
    base: ArtifactOut
    head: ArtifactOut
    changes: list[dict[str, Any]]


@router.get(
    "/datasets/{dataset}/schema/diff", operation_id="diffSchemas", response_model=SchemaDiffOut
)
def diff_schemas(
    dataset: Annotated[Name, Path()],
    db: DB,
    who: Caller,
    base: Annotated[PathVersion | None, Query()] = None,
    head: Annotated[PathVersion | None, Query()] = None,
) -> SchemaDiffOut:
    """Feature-level changes between two schema versions (default: the inferred first one and
    the newest)."""
    a, b, changes = cases.schema_diff(db, who, dataset, base, head)
    return SchemaDiffOut(base=ArtifactOut.of(a), head=ArtifactOut.of(b), changes=changes)
