"""The validation queue: jobs in the metadata database, leased by workers.

A lease is a row lock taken with FOR UPDATE SKIP LOCKED (Postgres), so several workers never
take the same job and none waits on another; on SQLite the write unit's BEGIN IMMEDIATE
serialises the pick. A job whose lease ran out (its worker died) is leased again, up to
`max_attempts`; then it fails with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..entities import Job
from ..errors import FailedPrecondition, NotFound
from ..tables import ArtifactRow, DataGateRow, ValidationJobRow
from ..tables.base import utcnow

ACTIVE = ("queued", "running")


def _entity(row: ValidationJobRow) -> Job:
    return Job(
        id=row.id,
        project_id=row.project_id,
        dataset_id=row.dataset_id,
        state=row.state,
        options=row.options or {},
        profile=row.profile,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        worker=row.worker,
        lease_expires_at=row.lease_expires_at,
        error=row.error,
        execution_id=row.execution_id,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def enqueue(
    session: Session,
    project_id: int,
    dataset_id: int,
    options: dict[str, Any],
    *,
    profile: str = "direct",
    rerun: bool,
) -> tuple[Job, bool]:
    """A job for the dataset version: the latest one unless `rerun` or it failed; (job, new).

    The dataset's row is locked first, so that concurrent requests for one version queue one
    job (on Postgres; SQLite's write unit is serial already)."""
    session.execute(select(ArtifactRow.id).where(ArtifactRow.id == dataset_id).with_for_update())
    latest = session.scalar(
        select(ValidationJobRow)
        .where(ValidationJobRow.project_id == project_id, ValidationJobRow.dataset_id == dataset_id)
        .order_by(ValidationJobRow.id.desc())
        .limit(1)
    )
    if latest is not None and latest.state in ACTIVE:
        if (
            rerun
            and latest.state == "queued"
            and (latest.options, latest.profile)
            != (
                options,
                profile,
            )
        ):
            # Not yet taken by a worker: it answers the new question instead of the old one.
            latest.options, latest.profile = options, profile
            session.flush()
        return _entity(latest), False
    if latest is not None and latest.state == "done" and not rerun:
        return _entity(latest), False
    row = ValidationJobRow(
        project_id=project_id,
        dataset_id=dataset_id,
        options=options,
        profile=profile,
        state="queued",
    )
    session.add(row)
    session.flush()
    gate = session.get(DataGateRow, dataset_id)
    if gate is None:
        session.add(DataGateRow(dataset_id=dataset_id, project_id=project_id, job_id=row.id))
    else:
        gate.status, gate.reasons, gate.job_id, gate.updated_at = "pending", [], row.id, utcnow()
    session.flush()
    return _entity(row), True


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def lease(
    session: Session,
    project_id: int,
    worker: str,
    seconds: float,
    profiles: Sequence[str] = ("direct",),
) -> tuple[Job, str] | None:
    """The oldest queued job of a profile the worker has, or one whose worker's lease ran out;
    with the lease's secret (only its hash is kept), which renewals and the result must carry.
    None when there is none."""
    now = utcnow()
    while True:
        row = session.scalar(
            select(ValidationJobRow)
            .where(
                ValidationJobRow.project_id == project_id,
                or_(
                    ValidationJobRow.state == "queued",
                    (ValidationJobRow.state == "running")
                    & (ValidationJobRow.lease_expires_at < now),
                ),
                ValidationJobRow.profile.in_(list(profiles)),
            )
            .order_by(ValidationJobRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if row is None:
            return None
        if row.attempts >= row.max_attempts:
            _fail(
                session,
                row,
                f"no result after {row.attempts} attempts (the worker "
                f"{row.worker or '?'} stopped renewing its lease)",
            )
            continue
        row.state, row.worker = "running", worker
        row.attempts += 1
        row.started_at = row.started_at or now
        row.lease_expires_at = now + timedelta(seconds=seconds)
        secret = secrets.token_urlsafe(32)
        row.lease_secret_hash = _digest(secret)
        session.flush()
        return _entity(row), secret


def _held(
    session: Session, project_id: int, job_id: int, worker: str, secret: str
) -> ValidationJobRow:
    row = session.get(ValidationJobRow, job_id, with_for_update=True)
    if row is None or row.project_id != project_id:
        raise NotFound(f"validation job {job_id} does not exist", details={"job_id": job_id})
    if (
        row.state != "running"
        or row.worker != worker
        or row.lease_secret_hash is None
        or not hmac.compare_digest(row.lease_secret_hash, _digest(secret))
    ):
        raise FailedPrecondition(
            f"validation job {job_id} is not leased to {worker!r} with this lease secret "
            f"(state {row.state}, worker {row.worker!r}); its lease may have run out and "
            "passed to another worker",
            details={"job_id": job_id, "state": row.state, "worker": row.worker},
        )
    return row


def check_lease(session: Session, project_id: int, job_id: int, worker: str, secret: str) -> None:
    """Raises FailedPrecondition unless `worker` holds the job's current lease with `secret`
    (and locks the job's row for the rest of the unit)."""
    _held(session, project_id, job_id, worker, secret)


def renew(
    session: Session, project_id: int, job_id: int, worker: str, secret: str, seconds: float
) -> Job:
    row = _held(session, project_id, job_id, worker, secret)
    row.lease_expires_at = utcnow() + timedelta(seconds=seconds)
    session.flush()
    return _entity(row)


def finish(
    session: Session,
    project_id: int,
    job_id: int,
    worker: str,
    secret: str,
    *,
    execution_id: int | None,
    error: str | None,
) -> Job:
    """Close a leased job: done, or failed with the worker's error (bad data is not retried)."""
    row = _held(session, project_id, job_id, worker, secret)
    if error is not None:
        _fail(session, row, error)
    else:
        row.state, row.finished_at, row.lease_expires_at = "done", utcnow(), None
    row.lease_secret_hash = None
    row.execution_id = execution_id
    session.flush()
    return _entity(row)


def _fail(session: Session, row: ValidationJobRow, error: str) -> None:
    row.state, row.error, row.finished_at, row.lease_expires_at = "failed", error, utcnow(), None
    gate = session.get(DataGateRow, row.dataset_id)
    if gate is not None and gate.job_id == row.id:
        gate.status = "error"
        gate.reasons = [{"feature": None, "kind": "ERROR", "severity": "ERROR", "message": error}]
        gate.updated_at = utcnow()
    session.flush()


def get(session: Session, project_id: int, job_id: int) -> Job:
    row = session.get(ValidationJobRow, job_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"validation job {job_id} does not exist", details={"job_id": job_id})
    return _entity(row)
