"""MLflow's run routes: a run is an mlledger run (same tables, search and explorer), its
datasets and models lineage edges."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mlledger.store.errors import InvalidArgument, NotFound
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.tracking.runs import NewRun

from ..deps import DB, Caller
from ..domain import experiments, logged_models, run_metrics, runs
from ..domain.principal import Principal
from ..domain.run_metrics import MetricBatch
from . import grammar, messages, wire
from .errors import PREFIX
from .lookup import experiment_of, lifecycle_of, model_of, wire_experiment_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _when(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidArgument(f"time {ms} ms is out of range", details={"time": ms}) from None


def _runs(db: Any, who: Principal, views: Sequence[runs.RunView]) -> list[dict[str, Any]]:
    """Runs in MLflow's shape, with their input datasets and models and the models they
    output (three statements a page)."""
    inputs, outputs = runs.edges_of(db, who, [v.run.id for v in views])
    return [
        wire.run(v.run, v.metrics, wire_experiment_of(v.run), inputs[v.run.id], outputs[v.run.id])
        for v in views
    ]


def _run(db: Any, who: Principal, view: runs.RunView) -> dict[str, Any]:
    return _runs(db, who, [view])[0]


@router.post("/runs/create")
def create_run(db: DB, who: Caller, body: messages.CreateRun) -> dict[str, Any]:
    target = experiment_of(db, who, body.experiment_id or wire.DEFAULT_ID)
    if target.deleted_at is not None:
        raise InvalidArgument(
            f"experiment {body.experiment_id} is deleted; restore it to add runs",
            details={"experiment_id": body.experiment_id},
        )
    tags = {t.key: t.value for t in body.tags}
    name = body.run_name or tags.pop(wire.RUN_NAME_TAG, "") or f"run-{uuid.uuid4().hex[:8]}"
    tags.pop(wire.RUN_NAME_TAG, None)
    if body.user_id and wire.USER_TAG not in tags:
        tags[wire.USER_TAG] = body.user_id
    view, _ = runs.create(
        db,
        who,
        NewRun(
            uuid=uuid.uuid4().hex,
            experiment=target.name,
            name=name,
            tags=tags,
            # Where the run came from, for the explorer and anyone reading the run.
            environment={"client": "mlflow"},
            started_at=_when(body.start_time),
        ),
    )
    return {"run": _run(db, who, view)}


@router.get("/runs/get")
def get_run(
    db: DB,
    who: Caller,
    run_id: Annotated[str, Query(max_length=64)] = "",
    run_uuid: Annotated[str, Query(max_length=64)] = "",
) -> dict[str, Any]:
    ref = run_id or run_uuid
    if not ref:
        raise InvalidArgument("run_id is required")
    return {"run": _run(db, who, runs.get(db, who, ref))}


@router.post("/runs/update")
def update_run(db: DB, who: Caller, body: messages.UpdateRun) -> dict[str, Any]:
    state, killed = None, False
    if body.status:
        mapped = wire.STATES.get(body.status.upper())
        if mapped is None:
            raise InvalidArgument(
                f"status {body.status!r} is not one of {', '.join(sorted(wire.STATES))}"
            )
        state, killed = mapped
    ended = _when(body.end_time) if state is not None and state != "running" else None
    view = runs.update(
        db, who, body.run, state=state, ended_at=ended, name=body.run_name or None, killed=killed
    )
    return {"run_info": wire.run_info(view.run, wire_experiment_of(view.run))}


@router.post("/runs/delete")
def delete_run(db: DB, who: Caller, body: messages.ByRun) -> dict[str, Any]:
    runs.update(db, who, body.run, deleted=True)
    return {}


@router.post("/runs/restore")
def restore_run(db: DB, who: Caller, body: messages.ByRun) -> dict[str, Any]:
    runs.update(db, who, body.run, deleted=False)
    return {}


@router.post("/runs/log-metric")
def log_metric(db: DB, who: Caller, body: messages.LogMetric) -> dict[str, Any]:
    _log_points(db, who, body.run, [body])
    return {}


def _log_points(
    db: Any, who: Principal, run: str, points: Sequence[messages.Metric | messages.LogMetric]
) -> None:
    """Plain points are appended; points carrying a logged model's id (MLflow 3 re-sends the
    run's metrics with it) go to that model and into the run's history only if new there."""
    plain = [p for p in points if not p.model_id]
    if plain:
        run_metrics.log_metrics(db, who, run, _batch(plain), None)
    by_model: dict[str, list[Any]] = {}
    for p in points:
        if p.model_id:
            by_model.setdefault(p.model_id, []).append(p)
    for model, linked in by_model.items():
        run_metrics.log_metrics_once(db, who, run, _batch(linked))
        logged = [
            {
                "key": p.key,
                "value": wire.number(p.value),
                "timestamp": p.timestamp,
                "step": p.step,
                **({"dataset_name": p.dataset_name} if p.dataset_name else {}),
                **({"dataset_digest": p.dataset_digest} if p.dataset_digest else {}),
            }
            for p in linked
        ]
        logged_models.log_metrics(db, who, model_of(model), [{**p, "run_id": run} for p in logged])


def _batch(points: Sequence[Any]) -> MetricBatch:
    return MetricBatch(
        [p.key for p in points],
        [p.value for p in points],
        [p.step for p in points],
        [p.timestamp for p in points],
    )


@router.post("/runs/log-parameter")
def log_param(db: DB, who: Caller, body: messages.LogParam) -> dict[str, Any]:
    runs.update(db, who, body.run, params={body.key: body.value})
    return {}


@router.post("/runs/set-tag")
def set_tag(db: DB, who: Caller, body: messages.SetTag) -> dict[str, Any]:
    if body.key == wire.RUN_NAME_TAG:  # MLflow's way of renaming a run
        runs.update(db, who, body.run, name=body.value)
    else:
        runs.update(db, who, body.run, tags={body.key: body.value})
    return {}


@router.post("/runs/delete-tag")
def delete_tag(db: DB, who: Caller, body: messages.DeleteTag) -> dict[str, Any]:
    view = runs.get(db, who, body.run)
    runs.require_active(view.run)  # MLflow says so before it looks for the tag
    if body.key not in view.run.tags:
        raise NotFound(
            f"No tag with name: {body.key} in run with id {body.run}", details={"tag": body.key}
        )
    runs.update(db, who, body.run, remove_tags=[body.key])
    return {}


@router.post("/runs/log-batch")
def log_batch(db: DB, who: Caller, body: messages.LogBatch) -> dict[str, Any]:
    """Params and tags first, then the points: a batch that changes a param is refused before
    any of its metrics is stored."""
    params: dict[str, str] = {}
    for p in body.params:
        if params.get(p.key, p.value) != p.value:
            raise InvalidArgument(
                f"param {p.key!r} is given twice with different values", details={"param": p.key}
            )
        params[p.key] = p.value
    tags = {t.key: t.value for t in body.tags}
    name = tags.pop(wire.RUN_NAME_TAG, None)
    if params or tags or name is not None:
        runs.update(db, who, body.run, params=params or None, tags=tags or None, name=name)
    if body.metrics:
        _log_points(db, who, body.run, body.metrics)
    return {}


@router.post("/runs/log-inputs")
def log_inputs(db: DB, who: Caller, body: messages.LogInputs) -> dict[str, Any]:
    """Each dataset becomes a `dataset` artifact the run read (an INPUT edge whose role is the
    dataset's context tag), fingerprinted by MLflow's digest: the same dataset logged again is
    the same artifact. Logged models become inputs too."""
    for given in body.datasets:
        d = given.dataset
        context = next((t.value for t in given.tags if t.key == wire.CONTEXT_TAG), None)
        others = {t.key: t.value for t in given.tags if t.key != wire.CONTEXT_TAG}
        runs.log_artifact(
            db,
            who,
            body.run,
            NewArtifact(
                kind="dataset",
                name=d.name,
                uri=_source_uri(d.source),
                fingerprint=f"mlflow-digest:{d.digest}",
                properties={
                    "mlflow": {
                        "digest": d.digest,
                        "source_type": d.source_type,
                        "source": d.source,
                        "schema": d.schema_,
                        "profile": d.profile,
                    }
                },
            ),
            "INPUT",
            context,
            others,
        )
    for model in body.models:
        runs.attach_input(
            db, who, body.run, logged_models.get(db, who, model_of(model.model_id)).id
        )
    return {}


def _source_uri(source: str) -> str | None:
    """The location in MLflow's source JSON (`{"uri": ...}`, `{"url": ...}`, `{"path": ...}`),
    so a dataset read from a file shares its URI with everything else that names the file."""
    try:
        parsed = json.loads(source) if source else None
    except ValueError:
        return None
    if isinstance(parsed, dict):
        for key in ("uri", "url", "path"):
            value = parsed.get(key)
            if isinstance(value, str) and value:
                return value[:4000]
    return None


@router.post("/runs/search")
def search_runs(db: DB, who: Caller, body: messages.SearchRuns) -> Response:
    ids: list[int] = []
    names: list[str] = []
    for eid in body.experiment_ids:
        if eid == wire.DEFAULT_ID:
            names.append(experiments.DEFAULT)
        elif eid.isascii() and eid.isdigit() and len(eid) <= 18:
            ids.append(int(eid))
        else:
            raise InvalidArgument(f"experiment id {eid!r} is not a number")
    if not body.experiment_ids:
        raise InvalidArgument("experiment_ids: name at least one experiment")
    page = runs.search(
        db,
        who,
        experiments=names,
        experiment_ids=ids,
        filter=grammar.filter_text(body.filter) if body.filter.strip() else None,
        order_by=grammar.order_text(body.order_by),
        limit=body.max_results,
        cursor=body.page_token or None,
        lifecycle=lifecycle_of(body.run_view_type),
    )
    out: dict[str, Any] = {"runs": _runs(db, who, page.items)}
    if page.next_cursor:
        out["next_page_token"] = page.next_cursor
    return wire.json(out)
