"""Pushes: TFX's Pusher as use cases. A push moves an alias only if the version's verdict
(model_gates.py) has no reason against it; the check and the move happen under the model's row
lock, so two pushes racing for the alias cannot both win: the second finds its blessing was
against a version that is no longer there.

Every push, rollback and refusal is appended to the push log — refusals in a transaction of
their own, so the refusal is on record even though nothing moved.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import Evaluation, ModelVersion, Page, Push
from mlledger.store.errors import GateBlocked
from mlledger.store.metadata import audit
from mlledger.store.registry import models, pushes

from .executions import ArtifactRef
from .gate_types import PushReason
from .model_gates import record_done
from .principal import Principal
from .verdicts import verdict_in


def _log(
    session: Session,
    who: Principal,
    name: str,
    alias: str,
    action: str,
    version: int | None,
    previous: int | None,
    outcome: str,
    reasons: list[PushReason],
    **links: int | None,
) -> Push:
    return pushes.append(
        session,
        who.project_id,
        model=name,
        alias=alias,
        action=action,
        version=version,
        previous_version=previous,
        outcome=outcome,
        reasons=[r.wire() for r in reasons],
        actor=who.actor,
        **links,
    )


def _refused(message: str, entry: Push) -> GateBlocked:
    return GateBlocked(
        message,
        details={"push_id": entry.id, "model": entry.model, "reasons": entry.reasons},
    )


def push(db: Database, who: Principal, name: str, number: int, alias: str) -> Push:
    """Move `alias` to version `number` if the gate allows it; the push log entry.

    Raises:
        GateBlocked: not blessed (or stale), a training dataset did not pass — refused, and
            the refusal is in the push log.
        NotFound: no such model or version.
    """
    who.require("write")
    with db.write() as session:
        model_id = models.lock(session, who.project_id, name)
        model = models.get_model(session, who.project_id, name)
        version = models.get_version(session, who.project_id, name, number)
        current = models.alias_version(session, model_id, alias)
        if current == number:
            already = [PushReason(kind="unchanged", message=f"{alias} is already v{number}")]
            return _log(session, who, name, alias, "push", number, current, "unchanged", already)
        found = verdict_in(session, who, model, version)
        evaluation_id = found.evaluation.id if found.evaluation else None
        if found.reasons:
            entry = _log(
                session,
                who,
                name,
                alias,
                "push",
                number,
                current,
                "refused",
                found.reasons,
                evaluation_id=evaluation_id,
            )
            refusal: GateBlocked | None = _refused(
                f"push of {name} v{number} to {alias!r} refused: "
                + "; ".join(r.message for r in found.reasons),
                entry,
            )
        else:
            refusal = None
            entry = _move(session, who, name, alias, version, current, "push", found.evaluation)
    if refusal is not None:
        raise refusal
    return entry


def _move(
    session: Session,
    who: Principal,
    name: str,
    alias: str,
    version: ModelVersion,
    current: int | None,
    action: str,
    evaluation: Evaluation | None,
) -> Push:
    models.set_alias(session, who.project_id, name, alias, version.version, expected=current)
    inputs = [ArtifactRef(id=version.artifact_id, role="model")]
    if evaluation is not None:
        inputs.append(ArtifactRef(id=evaluation.artifact_id, role="blessing"))
    recorded = record_done(
        session,
        who,
        "push",
        f"{action} {name} v{version.version} to {alias}",
        params={"alias": alias, "action": action},
        properties={"from": current, "to": version.version},
        inputs=inputs,
    )
    entry = _log(
        session,
        who,
        name,
        alias,
        action,
        version.version,
        current,
        "pushed",
        [],
        evaluation_id=evaluation.id if evaluation else None,
        execution_id=recorded.execution.id,
    )
    audit.record(
        session,
        who.project_id,
        who.actor,
        [
            audit.AuditEntry(
                f"model.{action}",
                "model_version",
                version.id,
                {"model": name, "alias": alias, "from": current, "to": version.version},
            )
        ],
    )
    return entry


def rollback(db: Database, who: Principal, name: str, alias: str) -> Push:
    """Return `alias` to the version it held before the push that put the current one there.
    No gate check: that version was in production before (this is the way back, not forward).

    Raises:
        GateBlocked: nothing to roll back to (refusal logged).
    """
    who.require("write")
    with db.write() as session:
        model_id = models.lock(session, who.project_id, name)
        current = models.alias_version(session, model_id, alias)
        before = (
            pushes.rollback_target(session, who.project_id, name, alias, current)
            if current is not None
            else None
        )
        if before is None or before.previous_version is None:
            message = (
                f"{alias!r} of {name} holds no version"
                if current is None
                else f"no push put v{current} on {alias!r} after another version: "
                "there is nothing to roll back to"
            )
            reasons = [PushReason(kind="rollback", message=message)]
            entry = _log(session, who, name, alias, "rollback", None, current, "refused", reasons)
            refusal: GateBlocked | None = _refused(f"rollback refused: {message}", entry)
        else:
            refusal = None
            target = models.get_version(session, who.project_id, name, before.previous_version)
            entry = _move(session, who, name, alias, target, current, "rollback", None)
    if refusal is not None:
        raise refusal
    return entry


def history(
    db: Database,
    who: Principal,
    name: str,
    *,
    alias: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Push]:
    who.require("read")
    with db.read() as session:
        models.get_model(session, who.project_id, name)
        return pushes.list_pushes(
            session, who.project_id, name, alias=alias, limit=limit, cursor=cursor
        )
