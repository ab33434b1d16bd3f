"""Model gates and evaluations: TFX's Evaluator as use cases, and the verdict a push goes by.

A version is *blessed* when its newest evaluation passed every threshold of the model's gate,
compared with the incumbent (the version holding `production`) on the same data. The verdict
(`verdict`) adds what else a push requires: a blessing under the gate's current revision,
against the version in `production` now, and every training dataset passed its data gate.
Pushing itself — the move, the rollback, the push log — is pushes.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, ModelVersion, RegisteredModel
from mlledger.store.errors import FailedPrecondition
from mlledger.store.metadata import artifacts, audit, events
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.executions import NewExecution
from mlledger.store.registry import blessings, models
from mlledger.store.registry.blessings import Evaluation, ModelGate
from mlledger.store.validation import gates
from mlledger.store.validation.gates import Gate

from . import executions, thresholds
from .executions import ArtifactRef, ExecutionRecord
from .principal import Principal
from .runs import finite_metrics
from .validation import dataset_version

INCUMBENT = "production"
JSON = "application/json"


def put_gate(
    db: Database, who: Principal, name: str, config: dict[str, Any]
) -> tuple[ModelGate, bool]:
    """Set a model's gate; a new revision (which makes earlier blessings stale) only when the
    configuration changed."""
    who.require("write")
    with db.write() as session:
        model = models.get_model(session, who.project_id, name)
        gate, changed = blessings.put_gate(session, model.id, config)
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
    finite_metrics(submitted.metrics, "metrics")
    for i, s in enumerate(submitted.slices):
        finite_metrics(s["metrics"], f"slices[{i}].metrics")
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
        blessed, checks = thresholds.decide(gate.config, document, baseline, absent=absent)

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


@dataclass(frozen=True, slots=True)
class Verdict:
    """May this version be pushed? Everything a push checks, for CI to ask before pushing."""

    model: str
    version: int
    incumbent: int | None
    evaluation: Evaluation | None
    datasets: list[tuple[Artifact, Gate | None]]
    reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.reasons:
            return "passed"
        if all(r.get("status") in ("pending", "none") for r in self.reasons):
            return "pending"
        return "blocked"


def training_datasets(session: Session, project_id: int, artifact_id: int) -> list[Artifact]:
    """The datasets the executions that wrote this model read (its training run's inputs)."""
    return training_datasets_of(session, project_id, [artifact_id])[artifact_id]


def training_datasets_of(
    session: Session, project_id: int, artifact_ids: Sequence[int]
) -> dict[int, list[Artifact]]:
    """`training_datasets` of many models in three statements (the explorer's model page asks
    for every version at once)."""
    writers: dict[int, set[int]] = {a: set() for a in artifact_ids}
    for e in events.of_artifacts(session, list(artifact_ids)):
        if e.type == "OUTPUT":
            writers[e.artifact_id].add(e.execution_id)
    every = sorted({x for found in writers.values() for x in found})
    read: dict[int, set[int]] = {x: set() for x in every}
    for e in events.of_executions(session, every):
        if e.type == "INPUT":
            read[e.execution_id].add(e.artifact_id)
    found = artifacts.get_many(session, project_id, sorted({a for r in read.values() for a in r}))
    return {
        model: sorted(
            (
                found[a]
                for a in {a for x in execs for a in read[x]}
                if a in found and found[a].kind == "dataset"
            ),
            key=lambda d: (d.name, d.version),
        )
        for model, execs in writers.items()
    }


def training_data(
    db: Database, who: Principal, artifact_id: int
) -> list[tuple[Artifact, Gate | None]]:
    """A model's training datasets with their data gates (None: never validated): the
    verdicts a push of it goes by, seen from the model."""
    who.require("read")
    with db.read() as session:
        return [
            (d, gates.get(session, who.project_id, d.id))
            for d in training_datasets(session, who.project_id, artifact_id)
        ]


def verdict_in(
    session: Session, who: Principal, model: RegisteredModel, version: ModelVersion
) -> Verdict:
    name, number = model.name, version.version
    reasons: list[dict[str, Any]] = []
    gate = blessings.get_gate(session, model.id)
    incumbent = models.alias_version(session, model.id, INCUMBENT)
    evaluation = blessings.latest(session, version.id)
    if gate is None:
        reasons.append({"kind": "no_gate", "message": no_gate(name).message})
    elif evaluation is None:
        reasons.append(
            {
                "kind": "no_evaluation",
                "message": f"v{number} has not been evaluated: submit its metrics "
                f"(POST /api/v1/models/{name}/versions/{number}/evaluations)",
            }
        )
    else:
        if not evaluation.blessed:
            reasons += [
                {"kind": "threshold", **{k: c.get(k) for k in ("slice", "metric", "message")}}
                for c in evaluation.checks
                if not c["passed"]
            ]
        if evaluation.gate_revision != gate.revision:
            reasons.append(
                {
                    "kind": "stale_blessing",
                    "message": f"the gate changed (revision {evaluation.gate_revision} → "
                    f"{gate.revision}) since v{number} was evaluated: evaluate it again",
                }
            )
        if evaluation.baseline_version != incumbent:
            was = evaluation.baseline_version
            reasons.append(
                {
                    "kind": "stale_blessing",
                    "message": f"v{number} was evaluated against "
                    f"{'no incumbent' if was is None else f'v{was}'}, but {INCUMBENT} is now "
                    f"{'empty' if incumbent is None else f'v{incumbent}'}: evaluate it again",
                }
            )
    datasets = [
        (d, gates.get(session, who.project_id, d.id))
        for d in training_datasets(session, who.project_id, version.artifact_id)
    ]
    for d, g in datasets:
        label = f"{d.name}:{d.version}"
        if g is None:
            message = f"training dataset {label} was never validated"
        elif g.status == "passed":
            continue
        elif g.status == "pending":
            message = f"training dataset {label} is still being validated"
        elif g.status == "error":
            message = f"training dataset {label} could not be validated"
        else:
            found = "; ".join(
                f"{r.get('feature') or '(dataset)'}: {r.get('message')}" for r in g.reasons[:3]
            )
            message = f"training dataset {label} failed its data gate: {found}"
        reasons.append(
            {
                "kind": "data_gate",
                "dataset": label,
                "dataset_id": d.id,
                "status": g.status if g else "none",
                "message": message,
            }
        )
    if not datasets and (gate is None or gate.config.get("require_training_data", True)):
        reasons.append(
            {
                "kind": "lineage",
                "message": f"v{number} has no training datasets in its lineage, so no data gate "
                "vouches for it: log them in the run that wrote the model (run.use_dataset), "
                "or set require_training_data to false in the gate",
            }
        )
    return Verdict(name, number, incumbent, evaluation, datasets, reasons)


def verdict(db: Database, who: Principal, name: str, number: int) -> Verdict:
    who.require("read")
    with db.read() as session:
        model = models.get_model(session, who.project_id, name)
        return verdict_in(
            session, who, model, models.get_version(session, who.project_id, name, number)
        )
