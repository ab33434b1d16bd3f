"""MLflow's ids to mlledger's nodes, for every route of the door."""

from __future__ import annotations

from typing import Any

from mlledger.store.database import Database
from mlledger.store.entities import Context, Run
from mlledger.store.errors import InvalidArgument, NotFound
from mlledger.store.tracking.runs import Lifecycle

from ..domain import experiments
from ..domain.principal import Principal
from . import wire


def experiment_of(db: Database, who: Principal, wire_id: str) -> Context:
    """The experiment MLflow calls `wire_id` ("0": the project's Default, made on first use)."""
    if wire_id == wire.DEFAULT_ID:
        return experiments.default(db, who)
    if not (wire_id.isascii() and wire_id.isdigit() and len(wire_id) <= 18):
        raise NotFound(f"experiment {wire_id!r} does not exist", details={"experiment_id": wire_id})
    return experiments.get(db, who, int(wire_id))


def wire_experiment_of(run: Run | Any) -> str:
    return wire.DEFAULT_ID if run.experiment == experiments.DEFAULT else str(run.experiment_id)


def model_of(model_id: str) -> int:
    """The artifact id of MLflow's logged model `model_id`, or NotFound."""
    found = wire.artifact_of_model(model_id)
    if found is None:
        raise NotFound(f"logged model {model_id!r} does not exist", details={"model_id": model_id})
    return found


_VIEWS: dict[str | int, Lifecycle] = {
    "ACTIVE_ONLY": "active",
    1: "active",
    "DELETED_ONLY": "deleted",
    2: "deleted",
    "ALL": "all",
    3: "all",
}


def lifecycle_of(value: str | int) -> Lifecycle:
    found = _VIEWS.get(value.upper() if isinstance(value, str) else value)
    if found is None:
        raise InvalidArgument(f"view type {value!r} is not ACTIVE_ONLY, DELETED_ONLY or ALL")
    return found
