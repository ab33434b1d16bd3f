"""Data gates: ask for a dataset version's validation, hand jobs to workers, take their protos,
decide the verdict, and keep curated schemas.

Everything a verdict rests on is in the lineage graph: a `validation` execution reads the
dataset (and the schema it was held to, and the previous version's statistics for drift) and
writes `statistics`, `anomalies` and — on first sight — an inferred `schema` artifact. Schemas
are named `<dataset>.schema`; a curated upload is a new version of it, and the newest version
is what the next validation uses.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from mlledger.store.data_gates import gates, jobs
from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Gate, Job
from mlledger.store.errors import FailedPrecondition, InvalidArgument, NotFound
from mlledger.store.metadata import artifacts, audit
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.executions import NewExecution
from mlledger.validation import protos

from . import executions
from .executions import ArtifactRef, ExecutionRecord
from .principal import Principal

PROTO = "application/x-protobuf"


def schema_name(dataset: str) -> str:
    return f"{dataset}.schema"


MAX_ID, MAX_VERSION = 2**63 - 1, 2**31 - 1


def dataset_version(
    session: Session, who: Principal, ref: int | str, *, readable: bool = True
) -> Artifact:
    """`ref`: an artifact id, `name` (the latest version) or `name:version`; `readable`: it
    must have a uri (a worker will read it)."""
    if isinstance(ref, int):
        if not 1 <= ref <= MAX_ID:  # no artifact has such an id
            raise NotFound(f"dataset {ref} does not exist", details={"dataset": ref})
        found = artifacts.get(session, who.project_id, ref)
    else:
        name, sep, version = ref.rpartition(":")
        if sep and version.isascii() and version.isdigit():
            if not 1 <= int(version) <= MAX_VERSION:
                raise InvalidArgument(f"version {version} is out of range")
            found = artifacts.get_by_name(session, who.project_id, name, int(version))
        else:
            found = artifacts.get_by_name(session, who.project_id, ref, None)
    if found.kind != "dataset":
        raise FailedPrecondition(
            f"artifact {found.id} is a {found.kind}, not a dataset", details={"id": found.id}
        )
    if readable and not found.uri:
        raise InvalidArgument(
            f"dataset {found.name}:{found.version} has no uri to read", details={"id": found.id}
        )
    return found


def request(
    db: Database,
    who: Principal,
    dataset: int | str,
    options: dict[str, Any],
    *,
    profile: str = "direct",
    rerun: bool,
) -> tuple[Job, Artifact, bool]:
    """Queue a validation of a dataset version (the existing job when one is queued, running
    or done, unless `rerun`); (job, dataset, new).

    `profile` names a runner profile of the workers' own configuration; a job carries no
    runner and no pipeline options of its own (SECURITY.md: a request cannot run code)."""
    who.require("write")
    with db.write() as session:
        found = dataset_version(session, who, dataset)
        serving = options.get("serving_dataset")
        if serving is not None:
            options = {**options, "serving_dataset": dataset_version(session, who, serving).id}
        job, new = jobs.enqueue(
            session, who.project_id, found.id, options, profile=profile, rerun=rerun
        )
        return job, found, new


@dataclass(frozen=True, slots=True)
class Lease:
    """What a worker needs for one job: the data, the schema to hold it to, the baselines."""

    job: Job
    secret: str  # renewals and the result must carry it
    dataset: Artifact
    schema: bytes | None
    previous_statistics: bytes | None
    serving: Artifact | None


def lease(
    db: Database, who: Principal, worker: str, seconds: float, profiles: list[str]
) -> Lease | None:
    """For workers (the `worker` scope only): the next job of one of `profiles`."""
    who.require("worker")
    with db.write() as session:
        got = jobs.lease(session, who.project_id, worker, seconds, profiles)
        if got is None:
            return None
        job, secret = got
        dataset = artifacts.get(session, who.project_id, job.dataset_id)
        schema = _latest_schema(session, who, dataset.name)
        previous_id = _previous_statistics(session, who, dataset)
        previous = gates.blob(session, who.project_id, previous_id)[1] if previous_id else None
        serving_id = job.options.get("serving_dataset")
        serving = artifacts.get(session, who.project_id, serving_id) if serving_id else None
        return Lease(
            job,
            secret,
            dataset,
            schema[1] if schema else None,
            previous,
            serving,
        )


def _previous_statistics(session: Session, who: Principal, dataset: Artifact) -> int | None:
    """The statistics artifact of the previous version's verdict (what drift compares with)."""
    if dataset.version <= 1:
        return None
    try:
        before = artifacts.get_by_name(session, who.project_id, dataset.name, dataset.version - 1)
    except NotFound:
        return None
    gate = gates.get(session, who.project_id, before.id)
    return gate.statistics_id if gate is not None else None


def _latest_schema(session: Session, who: Principal, dataset: str) -> tuple[Artifact, bytes] | None:
    try:
        found = artifacts.get_by_name(session, who.project_id, schema_name(dataset), None)
    except NotFound:
        return None
    return found, gates.blob(session, who.project_id, found.id)[1]


def heartbeat(
    db: Database, who: Principal, job_id: int, worker: str, secret: str, seconds: float
) -> Job:
    who.require("worker")
    with db.write() as session:
        return jobs.renew(session, who.project_id, job_id, worker, secret, seconds)


@dataclass(frozen=True, slots=True)
class Report:
    worker: str
    lease: str  # the secret the lease handed out
    statistics: str | None = None  # base64 of the serialized protos
    anomalies: str | None = None
    inferred_schema: str | None = None
    error: str | None = None


def _decode(field: str, text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgument(f"{field} is not base64", details={"field": field}) from exc


def report(db: Database, who: Principal, job_id: int, result: Report) -> tuple[Artifact, Gate, Job]:
    """Take a worker's result: record the validation in the lineage graph, decide the gate,
    close the job — in one transaction.

    Raises:
        PermissionDenied: the caller is not a worker (scope `worker`).
        FailedPrecondition: the job is not leased to this worker with this secret (any more).
        InvalidArgument: protos that do not parse, or neither protos nor an error.
    """
    who.require("worker")
    stats = _decode("statistics", result.statistics)
    anomalies = _decode("anomalies", result.anomalies)
    inferred = _decode("inferred_schema", result.inferred_schema)
    if result.error is None and (stats is None or anomalies is None):
        raise InvalidArgument("a result needs statistics and anomalies, or an error")
    if stats is not None:
        protos.parse("statistics", stats)
    if inferred is not None:
        protos.parse("schema", inferred)
    status, reasons = protos.reasons(anomalies) if anomalies is not None else ("error", [])
    with db.write() as session:
        job = jobs.get(session, who.project_id, job_id)
        dataset = artifacts.get(session, who.project_id, job.dataset_id)
        jobs.check_lease(session, who.project_id, job_id, result.worker, result.lease)
        if result.error is not None:
            job = jobs.finish(
                session,
                who.project_id,
                job_id,
                result.worker,
                result.lease,
                execution_id=None,
                error=result.error,
            )
            gate = gates.get(session, who.project_id, dataset.id)
            assert gate is not None
            return dataset, gate, job
        schema = _latest_schema(session, who, dataset.name)
        # Everything the worker read: the data, the schema, the previous version's statistics
        # (drift) and the serving data (skew).
        inputs = [ArtifactRef(id=dataset.id, role="dataset")]
        if schema is not None:
            inputs.append(ArtifactRef(id=schema[0].id, role="schema"))
        previous_id = _previous_statistics(session, who, dataset)
        if previous_id is not None:
            inputs.append(ArtifactRef(id=previous_id, role="previous_statistics"))
        if job.options.get("serving_dataset"):
            inputs.append(ArtifactRef(id=job.options["serving_dataset"], role="serving"))
        label = f"{dataset.name}:{dataset.version}"
        outputs = [
            _new("statistics", f"{dataset.name}.statistics", label, stats),
            _new("anomalies", f"{dataset.name}.anomalies", label, anomalies),
        ]
        if schema is None and inferred is not None:
            outputs.append(_new("schema", schema_name(dataset.name), label, inferred, "inferred"))
        (recorded,) = executions.record_in(
            session,
            who,
            [
                ExecutionRecord(
                    execution=NewExecution(
                        kind="validation",
                        name="data gate",
                        state="complete",
                        params={
                            "job_id": job_id,
                            "worker": result.worker,
                            "profile": job.profile,
                            **job.options,
                        },
                        properties={"verdict": status, "anomalies": len(reasons)},
                        started_at=job.started_at,
                        ended_at=datetime.now(UTC),
                    ),
                    inputs=inputs,
                    outputs=outputs,
                )
            ],
        )
        made = {a.kind: a for a, _ in recorded.outputs}
        blobs = {"statistics": stats, "anomalies": anomalies, "schema": inferred}
        for kind, artifact in made.items():
            data = blobs[kind]
            assert data is not None
            gates.put_blob(session, artifact.id, PROTO, data)
        schema_id = made["schema"].id if "schema" in made else (schema[0].id if schema else None)
        gates.decide(
            session,
            who.project_id,
            dataset.id,
            status=status,
            reasons=reasons,
            statistics_id=made["statistics"].id,
            schema_id=schema_id,
            anomalies_id=made["anomalies"].id,
        )
        job = jobs.finish(
            session,
            who.project_id,
            job_id,
            result.worker,
            result.lease,
            execution_id=recorded.execution.id,
            error=None,
        )
        gate = gates.get(session, who.project_id, dataset.id)
        assert gate is not None
        return dataset, gate, job


def _new(
    kind: str, name: str, of: str, data: bytes | None, origin: str | None = None
) -> ArtifactRef:
    assert data is not None
    props: dict[str, Any] = {"of": of, "format": "tensorflow-metadata", "bytes": len(data)}
    if origin:
        props["origin"] = origin
    return ArtifactRef(new=NewArtifact(kind=kind, name=name, properties=props), role=kind)


def gate(
    db: Database, who: Principal, dataset: int | str
) -> tuple[Artifact, Gate | None, Job | None]:
    who.require("read")
    with db.read() as session:
        found = dataset_version(session, who, dataset)
        verdict = gates.get(session, who.project_id, found.id)
        job = (
            jobs.get(session, who.project_id, verdict.job_id)
            if verdict is not None and verdict.job_id is not None
            else None
        )
        return found, verdict, job


def get_job(db: Database, who: Principal, job_id: int) -> Job:
    who.require("read")
    with db.read() as session:
        return jobs.get(session, who.project_id, job_id)


def content(db: Database, who: Principal, artifact_id: int) -> tuple[Artifact, str, bytes]:
    who.require("read")
    with db.read() as session:
        found = artifacts.get(session, who.project_id, artifact_id)
        media_type, data = gates.blob(session, who.project_id, artifact_id)
        return found, media_type, data


def upload_schema(
    db: Database, who: Principal, dataset: str, body: bytes, content_type: str
) -> Artifact:
    """A curated schema for a dataset name: the next version of `<dataset>.schema`."""
    who.require("write")
    parsed = protos.schema_from_upload(body, content_type)
    data = parsed.SerializeToString()
    with db.write() as session:
        artifacts.get_by_name(session, who.project_id, dataset, None)  # the dataset exists
        ((made, _),) = artifacts.create_many(
            session,
            who.project_id,
            [
                NewArtifact(
                    kind="schema",
                    name=schema_name(dataset),
                    properties={
                        "of": dataset,
                        "format": "tensorflow-metadata",
                        "origin": "curated",
                    },
                )
            ],
        )
        gates.put_blob(session, made.id, PROTO, data)
        audit.record(session, who.project_id, who.actor, [audit.artifact_created(made)])
        return made


def schema_diff(
    db: Database, who: Principal, dataset: str, base: int | None, head: int | None
) -> tuple[Artifact, Artifact, list[dict[str, Any]]]:
    """Changes between two versions of a dataset's schema (default: the first, inferred one,
    and the newest)."""
    who.require("read")
    with db.read() as session:
        name = schema_name(dataset)
        a = artifacts.get_by_name(session, who.project_id, name, base or 1)
        b = artifacts.get_by_name(session, who.project_id, name, head)
        changes = protos.diff(
            gates.blob(session, who.project_id, a.id)[1],
            gates.blob(session, who.project_id, b.id)[1],
        )
        return a, b, changes
