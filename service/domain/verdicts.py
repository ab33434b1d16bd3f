"""The verdict a push goes by, for CI to ask before pushing: a blessing under the gate's
current revision, against the version in `production` now, and every dataset the version was
trained on passed its data gate. `verdict_in` makes the reasons a push is refused for
(pushes.py refuses when there is any); gates and blessings themselves are model_gates.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from mlledger.store.data_gates import gates
from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Evaluation, Gate, ModelVersion, RegisteredModel
from mlledger.store.metadata import artifacts, events
from mlledger.store.registry import blessings, models

from .gate_types import PushReason, VerdictStatus
from .model_gates import config_of, no_gate
from .principal import Principal
from .rules import INCUMBENT


@dataclass(frozen=True, slots=True)
class Verdict:
    """May this version be pushed? Everything a push checks, for CI to ask before pushing."""

    model: str
    version: int
    incumbent: int | None
    evaluation: Evaluation | None
    datasets: list[tuple[Artifact, Gate | None]]
    reasons: list[PushReason] = field(default_factory=list)

    @property
    def status(self) -> VerdictStatus:
        if not self.reasons:
            return "passed"
        if all(r.status in ("pending", "none") for r in self.reasons):
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
    reasons: list[PushReason] = []
    gate = blessings.get_gate(session, model.id)
    incumbent = models.alias_version(session, model.id, INCUMBENT)
    evaluation = blessings.latest(session, version.id)
    if gate is None:
        reasons.append(PushReason(kind="no_gate", message=no_gate(name).message))
    elif evaluation is None:
        reasons.append(
            PushReason(
                kind="no_evaluation",
                message=f"v{number} has not been evaluated: submit its metrics "
                f"(POST /api/v1/models/{name}/versions/{number}/evaluations)",
            )
        )
    else:
        if not evaluation.blessed:
            reasons += [
                PushReason(
                    kind="threshold",
                    slice=c.get("slice"),
                    metric=c.get("metric"),
                    message=c["message"],
                )
                for c in evaluation.checks
                if not c["passed"]
            ]
        if evaluation.gate_revision != gate.revision:
            reasons.append(
                PushReason(
                    kind="stale_blessing",
                    message=f"the gate changed (revision {evaluation.gate_revision} → "
                    f"{gate.revision}) since v{number} was evaluated: evaluate it again",
                )
            )
        if evaluation.baseline_version != incumbent:
            was = evaluation.baseline_version
            reasons.append(
                PushReason(
                    kind="stale_blessing",
                    message=f"v{number} was evaluated against "
                    f"{'no incumbent' if was is None else f'v{was}'}, but {INCUMBENT} is now "
                    f"{'empty' if incumbent is None else f'v{incumbent}'}: evaluate it again",
                )
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
            PushReason(
                kind="data_gate",
                dataset=label,
                dataset_id=d.id,
                status=g.status if g else "none",
                message=message,
            )
        )
    if not datasets and (gate is None or config_of(gate).require_training_data):
        reasons.append(
            PushReason(
                kind="lineage",
                message=f"v{number} has no training datasets in its lineage, so no data gate "
                "vouches for it: log them in the run that wrote the model (run.use_dataset), "
                "or set require_training_data to false in the gate",
            )
        )
    return Verdict(name, number, incumbent, evaluation, datasets, reasons)


def verdict(db: Database, who: Principal, name: str, number: int) -> Verdict:
    who.require("read")
    with db.read() as session:
        model = models.get_model(session, who.project_id, name)
        return verdict_in(
            session, who, model, models.get_version(session, who.project_id, name, number)
        )
