"""Invariants several use cases enforce, each in one place: lineage stays acyclic, metrics a
gate compares are finite, and a gated model's `production` moves only by push."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set

from sqlalchemy.orm import Session

from mlledger.store.entities import Event
from mlledger.store.errors import FailedPrecondition, GateBlocked, InvalidArgument
from mlledger.store.metadata import events, lineage
from mlledger.store.registry import blessings, models

INCUMBENT = "production"  # the alias a push moves, and what candidates are compared with


def refuse_cycles(
    session: Session,
    named: Mapping[int, str],
    *,
    edges: Sequence[Event] | None = None,
    fresh_executions: Set[int] = frozenset(),
    fresh_artifacts: Set[int] = frozenset(),
) -> None:
    """An execution may not read what it (transitively) wrote: MLMD's graph is a DAG.

    `named` are the executions just given edges, each with the words an error about it starts
    with; `edges` their new edges (default: all of theirs), and the nodes this unit of work made
    (which lets a batch of new runs be checked without a walk).
    """
    if edges is None:
        edges = events.of_executions(session, list(named))
    cycle = lineage.find_cycle(session, edges, fresh_executions, fresh_artifacts)
    if cycle is None:
        return
    # The graph as it stands forbids it: a precondition, not a malformed request.
    runs = [n for t, n in cycle if t == "execution"]
    run = next((n for n in runs if n in named), runs[0])
    artifact_ids = sorted(n for t, n in cycle if t == "artifact")
    where = named.get(run, f"execution {run}")
    raise FailedPrecondition(
        f"{where}: artifact {artifact_ids[0]} would be both upstream and downstream of it; "
        "lineage must stay acyclic",
        details={"execution_id": run, "artifact_ids": artifact_ids},
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
