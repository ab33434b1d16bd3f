"""Model gates and evaluations: TFX's Evaluator as use cases.

A version is *blessed* when its newest evaluation passed every threshold of the model's gate,
compared with the incumbent (the version holding `production`) on the same data. What else a
push requires is verdicts.py; pushing itself — the move, the rollback, the push log — is
pushes.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from mlledger.store.data_gates import gates
from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Evaluation, ModelGate, ModelVersion
from mlledger.store.errors import FailedPrecondition
from mlledger.store.metadata import artifacts, audit
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.executions import NewExecution
from mlledger.store.registry import blessings, models

from . import executions, rules, thresholds
from .data_gates import dataset_version
from .executions import ArtifactRef, ExecutionRecord
from .gate_types import GateConfig
from .principal import Principal
from .rules import INCUMBENT

JSON = "application/json"


def put_gate(db: Database, who: Principal, name: str, config: GateConfig) -> tuple[ModelGate, bool]:
    """Set a model's gate; a new revision (which makes earlier blessings stale) only when the
    configuration changed. Stored as given (no defaults filled in), so it reads back as sent."""
    who.require("write")
    stored = config.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    with db.write() as session:
        model = models.get_model(session, who.project_id, name)
        gate, changed = blessings.put_gate(session, model.id, stored)
        if changed:
            audit.record(
                session,
                who.project_id,
                who.actor,
                [
                    audit.AuditEntry(
                        "model.gate.set",
                        "registered_model",
                        model.id,
                        {"model": name, "revision": gate.revision},
                    )
                ],
            )
        return gate, changed


def get_gate(db: Database, who: Principal, name: str) -> ModelGate:
    who.require("read")
    with db.read() as session:
        model = models.get_model(session, who.project_id, name)
        gate = blessings.get_gate(session, model.id)
        if gate is None:
            raise no_gate(name)
        return gate


def config_of(gate: ModelGate) -> GateConfig:
    """The stored gate, typed (the defaults of what was not given filled in)."""
    return GateConfig.model_validate(gate.config)


def record_done(
    session: Session,
    who: Principal,
    kind: str,
    name: str,
    *,
    params: dict[str, Any],
    properties: dict[str, Any],
    inputs: list[ArtifactRef],
    outputs: Sequence[ArtifactRef] = (),
) -> executions.RecordedExecution:
    """An evaluation or a push: an execution done the moment it is recorded, in the caller's
    transaction."""
    now = datetime.now(UTC)
    (recorded,) = executions.record_in(
        session,
        who,
        [
            ExecutionRecord(
                execution=NewExecution(
                    kind=kind,
                    name=name,
                    state="complete",
                    params=params,
                    properties=properties,
                    started_at=now,
                    ended_at=now,
                ),
                inputs=inputs,
                outputs=outputs,
            )
        ],
    )
    return recorded


def no_gate(name: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"model {name!r} has no gate: set its thresholds first (PUT /api/v1/models/{name}/gate)",
        details={"model": name},
    )


@dataclass(frozen=True, slots=True)
class Submitted:
    """An evaluation as computed by the caller (TFMA, sklearn, anything): overall metrics and
    metrics per slice, optionally on a named evaluation dataset."""

    metrics: dict[str, float]
    dataset: int | str | None = None
    example_count: int | None = None
    slices: Sequence[dict[str, Any]] = ()

    def document(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "example_count": self.example_count,
            "slices": list(self.slices),
        }


@dataclass(frozen=True, slots=True)
class Evaluated:
    evaluation: Evaluation
    version: ModelVersion
    dataset: Artifact | None
    artifact: Artifact


def evaluate(
    db: Database, who: Principal, name: str, number: int, submitted: Submitted
) -> Evaluated:
    """Record an evaluation of a version and decide its blessing under the model's gate.

    Raises:
        FailedPrecondition: the model has no gate.
        InvalidArgument: non-finite metrics, a dataset reference that is not a dataset.
        NotFound: no such model, version or dataset.
    """
    who.require("write")
    rules.finite_metrics(submitted.metrics, "metrics")
    for i, s in enumerate(submitted.slices):
        rules.finite_metrics(s["metrics"], f"slices[{i}].metrics")
    with db.write() as session:
        model = models.get_model(session, who.project_id, name)
        gate = blessings.get_gate(session, model.id)
        if gate is None:
            raise no_gate(name)
        version = models.get_version(session, who.project_id, name, number)
        dataset = (
            dataset_version(session, who, submitted.dataset, readable=False)
            if submitted.dataset is not None
            else None
        )
        incumbent_number = models.alias_version(session, model.id, INCUMBENT)
        incumbent = (
            models.get_version(session, who.project_id, name, incumbent_number)
            if incumbent_number is not None
            else None
        )
        document = submitted.document()
        if incumbent is None or incumbent.id == version.id:
            baseline = None
            absent = (
                f"no version holds {INCUMBENT!r}: change thresholds do not apply"
                if incumbent is None
                else f"v{number} is the incumbent: change thresholds do not apply"
            )
        else:
            theirs = blessings.latest(
                session, incumbent.id, dataset_id=dataset.id if dataset else None
            )
            baseline = thresholds.Baseline(
                version=incumbent.version,
                evaluation=theirs.metrics if theirs else None,
                dataset=f"{dataset.name}:{dataset.version}" if dataset else None,
            )
            absent = ""
        blessed, checks = thresholds.decide(config_of(gate), document, baseline, absent=absent)

        inputs = [ArtifactRef(id=version.artifact_id, role="model")]
        if incumbent is not None and incumbent.id != version.id:
            inputs.append(ArtifactRef(id=incumbent.artifact_id, role="baseline"))
        if dataset is not None:
            inputs.append(ArtifactRef(id=dataset.id, role="examples"))
        properties = {
            "model": name,
            "version": number,
            "blessed": blessed,
            "baseline_version": incumbent_number,
            "gate_revision": gate.revision,
        }
        recorded = record_done(
            session,
            who,
            "evaluation",
            f"evaluate {name} v{number}",
            params={"gate_revision": gate.revision, "thresholds": gate.config},
            properties={"blessed": blessed},
            inputs=inputs,
            outputs=[
                ArtifactRef(
                    new=NewArtifact(
                        kind="evaluation",
                        name=f"{name}.v{number}.evaluation",
                        properties=properties,
                    ),
                    role="evaluation",
                )
            ],
        )
        (artifact, _), *_ = recorded.outputs
        content = {**properties, **document, "checks": checks}
        gates.put_blob(session, artifact.id, JSON, json.dumps(content).encode())
        evaluation = blessings.add_evaluation(
            session,
            who.project_id,
            version.id,
            artifact_id=artifact.id,
            execution_id=recorded.execution.id,
            dataset_id=dataset.id if dataset else None,
            baseline_version=incumbent_number,
            gate_revision=gate.revision,
            blessed=blessed,
            metrics=document,
            checks=checks,
        )
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.artifact_created(artifact),
                audit.AuditEntry(
                    "model.version.evaluate",
                    "model_version",
                    version.id,
                    {"model": name, "version": number, "blessed": blessed},
                ),
            ],
        )
        return Evaluated(evaluation, version, dataset, artifact)


def evaluations(
    db: Database, who: Principal, name: str, number: int, *, limit: int
) -> list[tuple[Evaluation, Artifact | None]]:
    """Newest first, with their datasets."""
    who.require("read")
    with db.read() as session:
        version = models.get_version(session, who.project_id, name, number)
        found = blessings.of_version(session, version.id, limit=limit)
        sets = artifacts.get_many(
            session, who.project_id, [e.dataset_id for e in found if e.dataset_id]
        )
        return [(e, sets.get(e.dataset_id) if e.dataset_id else None) for e in found]
