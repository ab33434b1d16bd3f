"""Model registry use cases: versions are model artifacts written by runs; aliases move by
compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, ModelVersion, Page, RegisteredModel
from mlledger.store.errors import FailedPrecondition, InvalidArgument
from mlledger.store.metadata import artifacts, audit
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.registry import blessings, lifecycle, models
from mlledger.store.registry.models import UNSET
from mlledger.store.tracking import idempotency, runs

from . import rules
from .principal import Principal
from .runs import attach_artifact


def register(
    db: Database,
    who: Principal,
    name: str,
    *,
    run: str | None,
    artifact: NewArtifact | None,
    artifact_id: int | None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    idempotency_key: str | None = None,
) -> tuple[ModelVersion, Artifact, bool]:
    """A new version of model `name`: the artifact (new, or an existing one by id) becomes an
    OUTPUT of `run`, so the version's lineage reaches the run's datasets.

    Raises:
        InvalidArgument: neither or both of artifact/artifact_id; a non-model artifact.
        NotFound: unknown run or artifact.
    """
    who.require("write")
    if (artifact is None) == (artifact_id is None):
        raise InvalidArgument("give exactly one of artifact and artifact_id")
    rules.finite_metrics(metrics or {}, "metrics")
    with db.write() as session:
        if idempotency_key is not None:
            previous = idempotency.claim(session, who.project_id, idempotency_key, "model.version")
            if previous is not None:
                version = models.get_version(session, who.project_id, name, previous["version"])
                return version, artifacts.get(session, who.project_id, version.artifact_id), False
        the_run = runs.get(session, who.project_id, run, for_update=True) if run else None
        if artifact is not None:
            if artifact.kind != "model":
                raise InvalidArgument(
                    f"a model version's artifact has kind 'model', not {artifact.kind!r}"
                )
            if the_run is not None:
                art, _ = attach_artifact(session, who, the_run, artifact, "OUTPUT", "model")
            else:
                ((art, _),) = artifacts.create_many(session, who.project_id, [artifact])
        else:
            assert artifact_id is not None
            art = artifacts.get(session, who.project_id, artifact_id)
            if art.kind != "model":
                raise FailedPrecondition(
                    f"artifact {artifact_id} is a {art.kind}; only model artifacts are versions",
                    details={"artifact_id": artifact_id, "kind": art.kind},
                )
        version, created = models.create_version(
            session,
            who.project_id,
            name,
            artifact_id=art.id,
            run_id=the_run.id if the_run else None,
            description=description,
            tags=tags,
            metrics=metrics,
        )
        if created:
            audit.record(
                session,
                who.project_id,
                who.actor,
                [
                    audit.AuditEntry(
                        "model.version.create",
                        "model_version",
                        version.id,
                        {"model": name, "version": version.version, "artifact_id": art.id},
                    )
                ],
            )
        if idempotency_key is not None:
            idempotency.answer(
                session, who.project_id, idempotency_key, {"version": version.version}
            )
        return version, art, created


def get(db: Database, who: Principal, name: str) -> RegisteredModel:
    who.require("read")
    with db.read() as session:
        return models.get_model(session, who.project_id, name)


def list_models(
    db: Database, who: Principal, *, name_like: str | None, limit: int, cursor: str | None
) -> Page[RegisteredModel]:
    who.require("read")
    with db.read() as session:
        return models.list_models(
            session, who.project_id, name_like=name_like, limit=limit, cursor=cursor
        )


def create_model(
    db: Database, who: Principal, name: str, description: str | None, tags: dict[str, str]
) -> tuple[RegisteredModel, bool]:
    who.require("write")
    with db.write() as session:
        model, created = models.ensure_model(session, who.project_id, name, description)
        if created:
            if tags:
                model = models.update_model(session, who.project_id, name, tags=tags)
            audit.record(
                session,
                who.project_id,
                who.actor,
                [audit.AuditEntry("model.create", "registered_model", model.id, {"name": name})],
            )
        return model, created


def update_model(
    db: Database,
    who: Principal,
    name: str,
    *,
    description: Any = UNSET,
    tags: dict[str, str] | None = None,
    remove_tags: Sequence[str] = (),
) -> RegisteredModel:
    who.require("write")
    with db.write() as session:
        model = models.update_model(
            session,
            who.project_id,
            name,
            description=description,
            tags=tags,
            remove_tags=remove_tags,
        )
        audit.record(
            session,
            who.project_id,
            who.actor,
            [audit.AuditEntry("model.update", "registered_model", model.id, {"name": name})],
        )
        return model


def rename(db: Database, who: Principal, name: str, new_name: str) -> RegisteredModel:
    """A new name for a model no gate or push names (MLflow's rename).

    Raises:
        NotFound, AlreadyExists, FailedPrecondition (a gate or the push log names it).
    """
    who.require("write")
    with db.write() as session:
        model = lifecycle.rename_model(session, who.project_id, name, new_name)
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "model.rename", "registered_model", model.id, {"from": name, "to": new_name}
                )
            ],
        )
        return model


def delete(db: Database, who: Principal, name: str, version: int | None = None) -> None:
    """Remove a model (or one version) from the registry; its artifacts stay in the lineage
    graph. Refused while a gate or the push log names the model.

    Raises:
        NotFound, FailedPrecondition.
    """
    who.require("write")
    with db.write() as session:
        found = models.get_model(session, who.project_id, name)
        if version is None:
            lifecycle.delete_model(session, who.project_id, name)
        else:
            lifecycle.delete_version(session, who.project_id, name, version)
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "model.delete", "registered_model", found.id, {"name": name, "version": version}
                )
            ],
        )


def set_stage(
    db: Database, who: Principal, name: str, version: int, stage: str, archive_others: bool
) -> ModelVersion:
    """MLflow's stage transition. A gated model's Production is what `mlledger push` decides
    (the alias is the gate's), so its versions are never moved there by a stage.

    Raises:
        NotFound; InvalidArgument (not a stage); FailedPrecondition (a gated model's
            Production).
    """
    who.require("write")
    canonical = {s.lower(): s for s in lifecycle.STAGES}.get(stage.lower())
    if canonical is None:
        raise InvalidArgument(
            f"stage {stage!r} is not one of {', '.join(lifecycle.STAGES)}", details={"stage": stage}
        )
    with db.write() as session:
        found = models.get_model(session, who.project_id, name)
        if canonical == "Production" and blessings.get_gate(session, found.id) is not None:
            raise FailedPrecondition(
                f"{name} is gated: its production moves only by `mlledger push --model {name} "
                f"--version {version}`, not by a stage",
                details={"model": name, "version": version},
            )
        moved = lifecycle.set_stage(
            session, who.project_id, name, version, canonical, archive_others
        )
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "model.stage",
                    "registered_model",
                    found.id,
                    {"version": version, "stage": canonical},
                )
            ],
        )
        return moved


def latest_in_stages(
    db: Database, who: Principal, name: str, stages: Sequence[str]
) -> list[ModelVersion]:
    who.require("read")
    canonical = {s.lower(): s for s in lifecycle.STAGES}
    with db.read() as session:
        return lifecycle.latest_in_stages(
            session, who.project_id, name, [canonical.get(s.lower(), s) for s in stages]
        )


def versions(
    db: Database, who: Principal, name: str, *, limit: int, cursor: str | None
) -> Page[ModelVersion]:
    who.require("read")
    with db.read() as session:
        return models.list_versions(session, who.project_id, name, limit=limit, cursor=cursor)


def version(db: Database, who: Principal, name: str, number: int) -> ModelVersion:
    who.require("read")
    with db.read() as session:
        return models.get_version(session, who.project_id, name, number)


def versions_of_artifacts(
    db: Database, who: Principal, artifact_ids: Sequence[int]
) -> dict[int, list[ModelVersion]]:
    who.require("read")
    with db.read() as session:
        return models.versions_of_artifacts(session, who.project_id, artifact_ids)


def update_version(
    db: Database,
    who: Principal,
    name: str,
    number: int,
    *,
    description: Any = UNSET,
    tags: dict[str, str] | None = None,
    remove_tags: Sequence[str] = (),
) -> ModelVersion:
    who.require("write")
    with db.write() as session:
        result = models.update_version(
            session,
            who.project_id,
            name,
            number,
            description=description,
            tags=tags,
            remove_tags=remove_tags,
        )
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "model.version.update",
                    "model_version",
                    result.id,
                    {"model": name, "version": number},
                )
            ],
        )
        return result


def alias(db: Database, who: Principal, name: str, alias_name: str) -> ModelVersion:
    who.require("read")
    with db.read() as session:
        return models.resolve_alias(session, who.project_id, name, alias_name)


def set_alias(
    db: Database,
    who: Principal,
    name: str,
    alias_name: str,
    number: int | None,
    *,
    expected: Any = UNSET,
) -> tuple[int | None, int | None]:
    """Move (or with `number=None` remove) an alias by compare-and-set; returns (before, after).

    Raises:
        FailedPrecondition: the alias is not where `expected` says.
    """
    who.require("write")
    with db.write() as session:
        rules.guard_alias(session, who.project_id, name, alias_name)
        before, after = models.set_alias(
            session, who.project_id, name, alias_name, number, expected=expected
        )
        model = models.get_model(session, who.project_id, name)
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "model.alias.set" if number is not None else "model.alias.delete",
                    "registered_model",
                    model.id,
                    {"alias": alias_name, "from": before, "to": after},
                )
            ],
        )
        return before, after


def sources(
    db: Database, who: Principal, versions: Sequence[ModelVersion]
) -> tuple[dict[int, Artifact], dict[int, str]]:
    """The versions' artifacts by id and their runs' uuids by execution id, in two
    statements (a transport that shows where each version came from)."""
    who.require("read")
    with db.read() as session:
        arts = artifacts.get_many(session, who.project_id, [v.artifact_id for v in versions])
        run_ids = [v.run_id for v in versions if v.run_id is not None]
        found = runs.get_many(session, who.project_id, run_ids) if run_ids else {}
        return arts, {i: r.uuid for i, r in found.items()}
