"""mlledger's entities in MLflow's JSON shapes (protobuf's JSON mapping, as MLflow's server
writes it: int64 as numbers, non-finite doubles as "NaN" / "Infinity" / "-Infinity").

Identities: an experiment's MLflow id is its context id, except the project's `Default`
experiment, which is MLflow's "0"; a run's MLflow id is its uuid (chosen by the server, 32 hex
digits, for runs MLflow's client creates).
"""

from __future__ import annotations

import json as _json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import orjson
from fastapi import Response

from mlledger.store.entities import Artifact, Context, LatestMetric, Run

from ..domain.experiments import DEFAULT
from ..domain.runs import Edge

DEFAULT_ID = "0"
RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"

_STATUS = {"running": "RUNNING", "complete": "FINISHED", "cached": "FINISHED", "failed": "FAILED"}
State = Literal["running", "complete", "failed"]
STATES: dict[str, tuple[State, bool]] = {  # MLflow's status -> (mlledger's state, killed)
    "RUNNING": ("running", False),
    "SCHEDULED": ("running", False),
    "FINISHED": ("complete", False),
    "FAILED": ("failed", False),
    "KILLED": ("failed", True),
}


def json(body: dict[str, Any]) -> Response:
    """A large answer (a search page, a history) encoded by orjson: several times faster than
    the standard encoder, and the values were made JSON-safe above (no NaN)."""
    return Response(orjson.dumps(body), media_type="application/json")


def millis(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


def number(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def experiment_id(context: Context) -> str:
    return DEFAULT_ID if context.name == DEFAULT else str(context.id)


def experiment(context: Context) -> dict[str, Any]:
    eid = experiment_id(context)
    created = millis(context.created_at)
    return {
        "experiment_id": eid,
        "name": context.name,
        "artifact_location": f"mlflow-artifacts:/{eid}",
        "lifecycle_stage": "deleted" if context.deleted_at else "active",
        "creation_time": created,
        "last_update_time": millis(context.deleted_at) or created,
        "tags": [{"key": k, "value": str(v)} for k, v in sorted(context.properties.items())],
    }


def status(run: Run) -> str:
    if run.state == "failed" and run.killed:
        return "KILLED"
    return _STATUS.get(run.state, "FINISHED")


def run_info(run: Run, wire_experiment: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": run.uuid,
        "run_uuid": run.uuid,
        "run_name": run.name,
        "experiment_id": wire_experiment,
        "user_id": run.tags.get(USER_TAG) or "unknown",  # MLflow's server says so too
        "status": status(run),
        "start_time": millis(run.started_at),
        "artifact_uri": f"mlflow-artifacts:/{wire_experiment}/{run.uuid}/artifacts",
        "lifecycle_stage": "deleted" if run.deleted_at else "active",
    }
    if run.ended_at is not None:
        info["end_time"] = millis(run.ended_at)
    return info


def metric(m: LatestMetric) -> dict[str, Any]:
    return {"key": m.key, "value": number(m.value), "timestamp": m.timestamp, "step": m.step}


CONTEXT_TAG = "mlflow.data.context"


def dataset(artifact: Artifact) -> dict[str, Any]:
    """A dataset artifact as MLflow's Dataset: what MLflow logged, or for one logged by
    mlledger's client its name, fingerprint (as the digest) and URI."""
    meta = artifact.properties.get("mlflow")
    if meta is not None:
        return {"name": artifact.name, **{k: v for k, v in meta.items() if v}}
    digest = (artifact.fingerprint or "").partition(":")[2]
    return {
        "name": artifact.name,
        "digest": digest[:36],
        "source_type": "mlledger",
        "source": _json.dumps({"uri": artifact.uri} if artifact.uri else {}),
    }


def run(
    run: Run,
    latest: list[LatestMetric],
    wire_experiment: str,
    inputs: Sequence[Edge] = (),
    outputs: Sequence[Edge] = (),
) -> dict[str, Any]:
    tags = {**run.tags, RUN_NAME_TAG: run.name}
    datasets = []
    models = []
    produced = [
        {"model_id": model_id(e.artifact.id), "step": _output_step(e.artifact, run.uuid)}
        for e in outputs
        if e.artifact.kind == "model" and "mlflow" in e.artifact.properties
    ]
    for e in inputs:
        if e.artifact.kind == "dataset":
            entry: dict[str, Any] = {"dataset": dataset(e.artifact)}
            given = [{"key": k, "value": v} for k, v in e.tags.items()]
            if e.role:
                given.append({"key": CONTEXT_TAG, "value": e.role})
            if given:
                entry["tags"] = given
            datasets.append(entry)
        elif e.artifact.kind == "model" and "mlflow" in e.artifact.properties:
            models.append({"model_id": model_id(e.artifact.id)})
    return {
        "info": run_info(run, wire_experiment),
        "data": {
            "metrics": [metric(m) for m in latest],
            "params": [{"key": k, "value": v} for k, v in sorted(run.params.items())],
            "tags": [{"key": k, "value": str(v)} for k, v in sorted(tags.items())],
        },
        "inputs": {"dataset_inputs": datasets, "model_inputs": models},
        "outputs": {"model_outputs": produced},
    }


def _output_step(model: Artifact, run_uuid: str) -> int:
    steps: dict[str, int] = model.properties["mlflow"].get("output_steps", {})
    return steps.get(run_uuid, 0)


def model_id(artifact_id: int) -> str:
    """A logged model's MLflow id: `m-` and 32 hex digits, as MLflow's own (its client tells a
    `models:/m-...` URI by the prefix), here the model artifact's id."""
    return f"m-{artifact_id:032x}"


def artifact_of_model(model: str) -> int | None:
    body = model.removeprefix("m-")
    if (
        len(model) != 34
        or not model.startswith("m-")
        or any(c not in "0123456789abcdef" for c in body)
    ):
        return None
    return int(body, 16)


_MODEL_STATUS = {"pending": "LOGGED_MODEL_PENDING", "ready": "LOGGED_MODEL_READY"}


def logged_model(artifact: Artifact) -> dict[str, Any]:
    meta = artifact.properties.get("mlflow", {})
    eid = str(meta.get("experiment", meta.get("experiment_id", "")))
    created = millis(artifact.created_at)
    status = _MODEL_STATUS.get(meta.get("status", ""), "LOGGED_MODEL_UPLOAD_FAILED")
    info: dict[str, Any] = {
        "model_id": model_id(artifact.id),
        "experiment_id": eid,
        "name": artifact.name,
        "creation_timestamp_ms": created,
        "last_updated_timestamp_ms": created,
        "artifact_uri": artifact.uri or "",
        "status": status,
        "model_type": meta.get("model_type", ""),
        "tags": [{"key": k, "value": v} for k, v in sorted(meta.get("tags", {}).items())],
    }
    if meta.get("source_run"):
        info["source_run_id"] = meta["source_run"]
    return {
        "info": info,
        "data": {
            "params": [{"key": k, "value": v} for k, v in sorted(meta.get("params", {}).items())],
            "metrics": [{**m, "model_id": model_id(artifact.id)} for m in meta.get("metrics", [])],
        },
    }
