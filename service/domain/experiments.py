"""Experiment use cases: what MLflow's client does to experiments (create, find by name,
rename, tag, delete and restore), each call one transaction, every change audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Context
from mlledger.store.errors import NotFound
from mlledger.store.metadata import artifacts, audit
from mlledger.store.tracking import experiments
from mlledger.store.tracking.runs import Lifecycle

from .principal import Principal

DEFAULT = experiments.DEFAULT


def _audit(
    session: Session, who: Principal, action: str, experiment: Context, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        who.project_id,
        who.actor,
        [audit.AuditEntry(action, "context", experiment.id, details)],
    )


def create(db: Database, who: Principal, name: str, tags: Mapping[str, str]) -> Context:
    """Raises AlreadyExists when the name is taken (by a deleted experiment too)."""
    who.require("write")
    with db.write() as session:
        made = experiments.create(session, who.project_id, name, tags)
        _audit(session, who, "experiment.create", made, {"name": name})
        return made


def get(db: Database, who: Principal, experiment_id: int) -> Context:
    who.require("read")
    with db.read() as session:
        return experiments.get(session, who.project_id, experiment_id)


def by_name(db: Database, who: Principal, name: str) -> Context:
    who.require("read")
    with db.read() as session:
        return experiments.by_name(session, who.project_id, name)


def default(db: Database, who: Principal) -> Context:
    """The project's `Default` experiment, made on first use (MLflow's experiment 0 always
    exists): a read-only caller gets NotFound until a writer has used it."""
    who.require("read")
    with db.read() as session:
        try:
            return experiments.by_name(session, who.project_id, DEFAULT)
        except NotFound:
            if who.scope == "read":
                raise
    who.require("write")
    with db.write() as session:
        return experiments.ensure(session, who.project_id, DEFAULT)


def listing(db: Database, who: Principal, lifecycle: Lifecycle) -> list[Context]:
    who.require("read")
    with db.read() as session:
        return experiments.listing(session, who.project_id, lifecycle)


def rename(db: Database, who: Principal, experiment_id: int, name: str) -> Context:
    who.require("write")
    with db.write() as session:
        before = experiments.get(session, who.project_id, experiment_id)
        after = experiments.rename(session, who.project_id, experiment_id, name)
        _audit(session, who, "experiment.rename", after, {"from": before.name, "to": name})
        return after


def set_deleted(db: Database, who: Principal, experiment_id: int, deleted: bool) -> Context:
    """Delete or restore: a mark; the experiment's runs and lineage stay."""
    who.require("write")
    with db.write() as session:
        changed = experiments.mark_deleted(session, who.project_id, experiment_id, deleted)
        action = "experiment.delete" if deleted else "experiment.restore"
        _audit(session, who, action, changed, {})
        return changed


def tag(
    db: Database,
    who: Principal,
    experiment_id: int,
    tags: Mapping[str, str],
    remove: Sequence[str] = (),
) -> Context:
    who.require("write")
    with db.write() as session:
        changed = experiments.set_tags(session, who.project_id, experiment_id, tags, remove)
        _audit(
            session, who, "experiment.tag", changed, {"set": sorted(tags), "removed": list(remove)}
        )
        return changed


def datasets(
    db: Database, who: Principal, experiment_ids: Sequence[int], limit: int = 10_000
) -> list[tuple[int, Artifact, str | None]]:
    """The datasets the experiments' runs read, each with the role it was read in (MLflow's
    context), in two statements."""
    who.require("read")
    with db.read() as session:
        found = experiments.inputs(session, who.project_id, experiment_ids, limit)
        arts = artifacts.get_many(session, who.project_id, [a for _, a, _ in found])
        return [
            (e, arts[a], role) for e, a, role in found if a in arts and arts[a].kind == "dataset"
        ]
