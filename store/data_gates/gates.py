"""Verdicts on dataset versions, and the stored bytes (TFDV protos) behind them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..entities import Gate
from ..errors import NotFound
from ..tables import ArtifactRow, BlobRow, DataGateRow
from ..tables.base import utcnow


def _gate(row: DataGateRow) -> Gate:
    return Gate(
        dataset_id=row.dataset_id,
        status=row.status,
        reasons=row.reasons or [],
        job_id=row.job_id,
        statistics_id=row.statistics_id,
        schema_id=row.schema_id,
        anomalies_id=row.anomalies_id,
        updated_at=row.updated_at,
    )


def get(session: Session, project_id: int, dataset_id: int) -> Gate | None:
    row = session.get(DataGateRow, dataset_id)
    if row is None or row.project_id != project_id:
        return None
    return _gate(row)


def decide(
    session: Session,
    project_id: int,
    dataset_id: int,
    *,
    status: str,
    reasons: list[dict[str, Any]],
    statistics_id: int | None,
    schema_id: int | None,
    anomalies_id: int | None,
) -> None:
    row = session.get(DataGateRow, dataset_id, with_for_update=True)
    if row is None:
        row = DataGateRow(dataset_id=dataset_id, project_id=project_id)
        session.add(row)
    row.status, row.reasons = status, reasons
    row.statistics_id, row.schema_id, row.anomalies_id = statistics_id, schema_id, anomalies_id
    row.updated_at = utcnow()
    session.flush()


def put_blob(session: Session, artifact_id: int, media_type: str, data: bytes) -> None:
    session.merge(BlobRow(artifact_id=artifact_id, media_type=media_type, data=data))
    session.flush()


def blob(session: Session, project_id: int, artifact_id: int) -> tuple[str, bytes]:
    found = session.execute(
        select(BlobRow.media_type, BlobRow.data)
        .join(ArtifactRow, ArtifactRow.id == BlobRow.artifact_id)
        .where(BlobRow.artifact_id == artifact_id, ArtifactRow.project_id == project_id)
    ).first()
    if found is None:
        raise NotFound(
            f"artifact {artifact_id} has no stored content", details={"artifact_id": artifact_id}
        )
    return found[0], found[1]


def get_many(session: Session, project_id: int, dataset_ids: list[int]) -> dict[int, Gate]:
    """Verdicts of many dataset versions in one query (the explorer colours a graph by them)."""
    rows = session.scalars(
        select(DataGateRow).where(
            DataGateRow.project_id == project_id, DataGateRow.dataset_id.in_(dataset_ids)
        )
    )
    return {r.dataset_id: _gate(r) for r in rows}
