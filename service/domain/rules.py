"""Invariants several use cases enforce, each in one place: lineage stays acyclic, metrics a
gate compares are finite, and a gated model's `production` moves only by push."""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from mlledger.store.errors import FailedPrecondition, GateBlocked, InvalidArgument
from mlledger.store.metadata import events, lineage
from mlledger.store.registry import blessings, models

INCUMBENT = "production"  # the alias a push moves, and what candidates are compared with


def refuse_cycles(session: Session, execution_id: int, where: str) -> None:
    """An execution may not read what it (transitively) wrote: MLMD's graph is a DAG."""
    evs = events.of_executions(session, [execution_id])
    outputs = [e.artifact_id for e in evs if e.type == "OUTPUT"]
    inputs = [e.artifact_id for e in evs if e.type == "INPUT"]
    looped = lineage.reachable(session, "artifact", outputs, "downstream", inputs)
    if looped:  # the graph as it stands forbids it: a precondition, not a malformed request
        raise FailedPrecondition(
            f"{where}: input artifact {min(looped)} is downstream of this execution's outputs; "
            "lineage must stay acyclic",
            details={"artifact_ids": sorted(looped)},
        )


def finite_metrics(values: dict[str, float], what: str) -> dict[str, float]:
    """Model metrics are compared by gates: a NaN there would make every comparison false."""
    for key, value in values.items():
        if not math.isfinite(value):
            raise InvalidArgument(
                f"{what}.{key} is {value}; it must be a finite number", details={"key": key}
            )
    return values


def guard_alias(session: Session, project_id: int, name: str, alias: str) -> None:
    """`production` of a gated model moves only by push, which checks the gate.

    Raises:
        GateBlocked: the alias is `production` and the model has a gate.
    """
    if alias != INCUMBENT:
        return
    model = models.get_model(session, project_id, name)
    if blessings.get_gate(session, model.id) is not None:
        raise GateBlocked(
            f"model {name!r} has a gate: {INCUMBENT!r} moves only by push "
            f"(`mlledger push --model {name} --version V`, POST /api/v1/models/{name}/pushes), "
            "which checks the blessing and the training data",
            details={"model": name, "alias": alias},
        )
