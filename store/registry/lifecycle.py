"""A registered model's lifecycle beyond versions and aliases: MLflow's rename and deletes
(allowed while no gate or push names the model) and its deprecated stages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..entities import ModelVersion, RegisteredModel
from ..errors import AlreadyExists, FailedPrecondition
from ..tables import ModelGateRow, ModelPushRow, ModelVersionRow, RegisteredModelRow
from ..tables.base import utcnow
from . import models


def _kept_by(session: Session, project_id: int, row: RegisteredModelRow) -> str | None:
    """What keeps a registered model's name and versions: a gate (its evaluations are the
    gate's evidence) or a push log entry (the log names the model and never changes)."""
    if session.get(ModelGateRow, row.id) is not None:
        return "its gate"
    pushed = session.scalar(
        select(ModelPushRow.id)
        .where(ModelPushRow.project_id == project_id, ModelPushRow.model == row.name)
        .limit(1)
    )
    return "its push log" if pushed is not None else None


def rename_model(session: Session, project_id: int, name: str, new_name: str) -> RegisteredModel:
    """Rename a model nothing names by its old name.

    Raises:
        NotFound: no such model. AlreadyExists: `new_name` is taken.
        FailedPrecondition: a gate or the push log names it.
    """
    row = models.model_row(session, project_id, name, for_update=True)
    keeper = _kept_by(session, project_id, row)
    if keeper is not None:
        raise FailedPrecondition(
            f"model {name!r} keeps its name: {keeper} names it; register its versions under a "
            "new model instead",
            details={"model": name, "kept_by": keeper},
        )
    taken = session.scalar(
        select(RegisteredModelRow.id).where(
            RegisteredModelRow.project_id == project_id, RegisteredModelRow.name == new_name
        )
    )
    if taken is not None:
        raise AlreadyExists(
            f"Registered Model (name={new_name}) already exists.", details={"model": new_name}
        )
    row.name = new_name
    row.updated_at = utcnow()
    session.flush()
    return models.get_model(session, project_id, new_name)


def delete_model(session: Session, project_id: int, name: str) -> None:
    """Remove a model and its versions from the registry; the versions' artifacts stay in
    the lineage graph (they are the runs' outputs, registered or not).

    Raises:
        NotFound: no such model. FailedPrecondition: a gate or the push log names it.
    """
    row = models.model_row(session, project_id, name, for_update=True)
    keeper = _kept_by(session, project_id, row)
    if keeper is not None:
        raise FailedPrecondition(
            f"model {name!r} stays in the registry: {keeper} names it; remove its aliases instead",
            details={"model": name, "kept_by": keeper},
        )
    session.delete(row)
    session.flush()


def delete_version(session: Session, project_id: int, name: str, version: int) -> None:
    """Remove one version from the registry (its aliases with it); its artifact stays.

    Raises:
        NotFound: no such model or version. FailedPrecondition: a gate or the push log names
            the model.
    """
    model, row = models.version_row(session, project_id, name, version)
    keeper = _kept_by(session, project_id, model)
    if keeper is not None:
        raise FailedPrecondition(
            f"{name} v{version} stays in the registry: {keeper} names the model; move its "
            "aliases away instead",
            details={"model": name, "version": version, "kept_by": keeper},
        )
    session.delete(row)
    session.flush()


STAGES = ("None", "Staging", "Production", "Archived")


def set_stage(
    session: Session, project_id: int, name: str, version: int, stage: str, archive_others: bool
) -> ModelVersion:
    """Move a version to a stage (MLflow's); `archive_others` moves the versions in that stage
    to Archived, as MLflow's `archive_existing_versions` does. Under the model's row lock."""
    model = models.model_row(session, project_id, name, for_update=True)
    _, row = models.version_row(session, project_id, name, version)
    if archive_others and stage in ("Staging", "Production"):
        others = session.scalars(
            select(ModelVersionRow).where(
                ModelVersionRow.registered_model_id == model.id,
                ModelVersionRow.stage == stage,
                ModelVersionRow.id != row.id,
            )
        )
        for other in others:
            other.stage = "Archived"
    row.stage = stage
    model.updated_at = utcnow()
    session.flush()
    return models.get_version(session, project_id, name, version)


def latest_in_stages(
    session: Session, project_id: int, name: str, stages: Sequence[str]
) -> list[ModelVersion]:
    """The newest version in each stage asked (every stage when none is), by stage."""
    model = models.model_row(session, project_id, name)
    wanted = list(stages) or list(STAGES)
    newest = (
        select(ModelVersionRow.stage, func.max(ModelVersionRow.version))
        .where(ModelVersionRow.registered_model_id == model.id, ModelVersionRow.stage.in_(wanted))
        .group_by(ModelVersionRow.stage)
    )
    numbers = sorted((STAGES.index(s), v) for s, v in session.execute(newest))
    return [models.get_version(session, project_id, name, v) for _, v in numbers]
