"""Model gates (threshold configurations) and the evaluations/blessings decided under them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..entities import Evaluation, ModelGate, Standing
from ..tables import (
    ModelEvaluationRow,
    ModelGateRow,
    ModelPushRow,
    ModelVersionRow,
    RegisteredModelRow,
)
from ..tables.base import utcnow


def get_gate(session: Session, model_id: int) -> ModelGate | None:
    row = session.get(ModelGateRow, model_id)
    if row is None:
        return None
    return ModelGate(row.registered_model_id, row.revision, row.config, row.updated_at)


def put_gate(session: Session, model_id: int, config: dict[str, Any]) -> tuple[ModelGate, bool]:
    """Replace the gate; a new revision only when the configuration changed (so re-applying
    the same file in CI does not make every blessing stale). (gate, changed)

    The model's row is locked first: the first gate of a model has no row of its own to lock,
    and two first writers would otherwise both insert it."""
    session.execute(
        select(RegisteredModelRow.id).where(RegisteredModelRow.id == model_id).with_for_update()
    )
    row = session.get(ModelGateRow, model_id, with_for_update=True)
    if row is None:
        row = ModelGateRow(registered_model_id=model_id, revision=1, config=config)
        row.updated_at = utcnow()
        session.add(row)
        changed = True
    elif row.config != config:
        row.revision += 1
        row.config = config
        row.updated_at = utcnow()
        changed = True
    else:
        changed = False
    session.flush()
    return ModelGate(row.registered_model_id, row.revision, row.config, row.updated_at), changed


def _evaluation(row: ModelEvaluationRow) -> Evaluation:
    return Evaluation(
        id=row.id,
        model_version_id=row.model_version_id,
        artifact_id=row.artifact_id,
        execution_id=row.execution_id,
        dataset_id=row.dataset_id,
        baseline_version=row.baseline_version,
        gate_revision=row.gate_revision,
        blessed=row.blessed,
        metrics=row.metrics or {},
        checks=row.checks or [],
        created_at=row.created_at,
    )


def add_evaluation(
    session: Session,
    project_id: int,
    model_version_id: int,
    *,
    artifact_id: int,
    execution_id: int,
    dataset_id: int | None,
    baseline_version: int | None,
    gate_revision: int,
    blessed: bool,
    metrics: dict[str, Any],
    checks: list[dict[str, Any]],
) -> Evaluation:
    row = ModelEvaluationRow(
        project_id=project_id,
        model_version_id=model_version_id,
        artifact_id=artifact_id,
        execution_id=execution_id,
        dataset_id=dataset_id,
        baseline_version=baseline_version,
        gate_revision=gate_revision,
        blessed=blessed,
        metrics=metrics,
        checks=checks,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _evaluation(row)


def latest(session: Session, model_version_id: int, *, dataset_id: Any = ...) -> Evaluation | None:
    """The newest evaluation of a version (on `dataset_id` when given; None: no dataset)."""
    query = select(ModelEvaluationRow).where(
        ModelEvaluationRow.model_version_id == model_version_id
    )
    if dataset_id is not ...:
        query = query.where(
            ModelEvaluationRow.dataset_id.is_(None)
            if dataset_id is None
            else ModelEvaluationRow.dataset_id == dataset_id
        )
    row = session.scalars(query.order_by(ModelEvaluationRow.id.desc()).limit(1)).first()
    return _evaluation(row) if row is not None else None


def newest_of_versions(session: Session, version_ids: Sequence[int]) -> dict[int, Evaluation]:
    """The newest evaluation of each version, in one statement."""
    if not version_ids:
        return {}
    newest = (
        select(func.max(ModelEvaluationRow.id))
        .where(ModelEvaluationRow.model_version_id.in_(version_ids))
        .group_by(ModelEvaluationRow.model_version_id)
    )
    rows = session.scalars(select(ModelEvaluationRow).where(ModelEvaluationRow.id.in_(newest)))
    return {r.model_version_id: _evaluation(r) for r in rows}


def of_version(session: Session, model_version_id: int, *, limit: int) -> list[Evaluation]:
    rows = session.scalars(
        select(ModelEvaluationRow)
        .where(ModelEvaluationRow.model_version_id == model_version_id)
        .order_by(ModelEvaluationRow.id.desc())
        .limit(limit)
    )
    return [_evaluation(r) for r in rows]


def standing_of_artifacts(
    session: Session, project_id: int, artifact_ids: list[int]
) -> dict[int, Standing]:
    """`Standing` of each model artifact that is a registry version, in three statements."""
    versions = session.execute(
        select(
            ModelVersionRow.artifact_id,
            ModelVersionRow.id,
            RegisteredModelRow.name,
            ModelVersionRow.version,
        )
        .join(RegisteredModelRow, RegisteredModelRow.id == ModelVersionRow.registered_model_id)
        .where(
            RegisteredModelRow.project_id == project_id,
            ModelVersionRow.artifact_id.in_(artifact_ids),
        )
    ).all()
    if not versions:
        return {}
    blessed: dict[int, bool] = {}
    for version_id, ok in session.execute(
        select(ModelEvaluationRow.model_version_id, ModelEvaluationRow.blessed)
        .where(ModelEvaluationRow.model_version_id.in_([v[1] for v in versions]))
        .order_by(ModelEvaluationRow.id)
    ):
        blessed[version_id] = ok
    pushed: dict[tuple[str, int], str] = {}
    for model, number, outcome in session.execute(
        select(ModelPushRow.model, ModelPushRow.version, ModelPushRow.outcome)
        .where(
            ModelPushRow.project_id == project_id,
            ModelPushRow.model.in_({v[2] for v in versions}),
            ModelPushRow.action == "push",
        )
        .order_by(ModelPushRow.id)
    ):
        if number is not None:
            pushed[(model, number)] = outcome
    return {
        artifact_id: Standing(blessed.get(version_id), pushed.get((model, number)))
        for artifact_id, version_id, model, number in versions
    }
