"""MLflow's experiment, run and metric routes, on the domain's use cases."""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mlledger.store.entities import Context
from mlledger.store.errors import InvalidArgument, NotFound
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.tracking.runs import Lifecycle, NewRun

from ..deps import DB, Caller
from ..domain import experiments, logged_models, runs
from ..domain.principal import Principal
from ..domain.runs import MetricBatch
from . import grammar, messages, wire
from .errors import PREFIX
from .lookup import experiment_of, model_of, wire_experiment_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)

_VIEWS: dict[str | int, Lifecycle] = {
    "ACTIVE_ONLY": "active",
    1: "active",
    "DELETED_ONLY": "deleted",
    2: "deleted",
    "ALL": "all",
    3: "all",
}
HISTORY_PAGE = 1_000_000  # points a get-history answer may hold; MLflow's server sends all


def _view(value: str | int) -> Lifecycle:
    found = _VIEWS.get(value.upper() if isinstance(value, str) else value)
    if found is None:
        raise InvalidArgument(f"view type {value!r} is not ACTIVE_ONLY, DELETED_ONLY or ALL")
    return found


def _when(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidArgument(f"time {ms} ms is out of range", details={"time": ms}) from None


def _runs(db: Any, who: Principal, views: Sequence[runs.RunView]) -> list[dict[str, Any]]:
    """Runs in MLflow's shape, with their input datasets and models (two statements a page)."""
    inputs = runs.inputs_of(db, who, [v.run.id for v in views])
    return [wire.run(v.run, v.metrics, wire_experiment_of(v.run), inputs[v.run.id]) for v in views]


def _run(db: Any, who: Principal, view: runs.RunView) -> dict[str, Any]:
    return _runs(db, who, [view])[0]


# Experiments ---------------------------------------------------------------------------------


@router.get("/experiments/get-by-name")
def get_experiment_by_name(
    db: DB, who: Caller, experiment_name: Annotated[str, Query(max_length=messages.NAME)] = ""
) -> dict[str, Any]:
    if not experiment_name:
        raise InvalidArgument("experiment_name is required")
    if experiment_name == experiments.DEFAULT:
        return {"experiment": wire.experiment(experiments.default(db, who))}
    return {"experiment": wire.experiment(experiments.by_name(db, who, experiment_name))}


@router.get("/experiments/get")
def get_experiment(
    db: DB, who: Caller, experiment_id: Annotated[str, Query(max_length=20)] = ""
) -> dict[str, Any]:
    if not experiment_id:
        raise InvalidArgument("experiment_id is required")
    return {"experiment": wire.experiment(experiment_of(db, who, experiment_id))}


@router.post("/experiments/create")
def create_experiment(db: DB, who: Caller, body: messages.CreateExperiment) -> dict[str, Any]:
    if body.name == experiments.DEFAULT:
        made = experiments.default(db, who)
    else:
        made = experiments.create(db, who, body.name, {t.key: t.value for t in body.tags})
    return {"experiment_id": wire.experiment_id(made)}


def _search_experiments(
    db: Any, who: Principal, body: messages.SearchExperiments
) -> dict[str, Any]:
    if who.scope not in ("read", "worker"):  # MLflow's experiment "0" always exists
        experiments.default(db, who)
    found = experiments.listing(db, who, _view(body.view_type))
    text = body.filter.strip()
    if text:
        found = [e for e in found if _experiment_matches(text, e)]
    for clause in reversed(body.order_by or ["creation_time DESC"]):
        field, _, direction = clause.strip().partition(" ")
        field = field.removeprefix("attributes.").removeprefix("attribute.")
        keys = {
            "name": lambda e: e.name,
            "experiment_id": lambda e: e.id,
            "creation_time": lambda e: e.created_at,
            "last_update_time": lambda e: e.deleted_at or e.created_at,
        }
        if field not in keys:
            raise InvalidArgument(f"order_by: cannot order experiments by {field!r}")
        found.sort(key=keys[field], reverse=direction.strip().upper() == "DESC")
    start = int(body.page_token) if body.page_token.isdigit() else 0
    page = found[start : start + body.max_results]
    out: dict[str, Any] = {"experiments": [wire.experiment(e) for e in page]}
    if start + body.max_results < len(found):
        out["next_page_token"] = str(start + body.max_results)
    return out


def _experiment_matches(text: str, experiment: Context) -> bool:
    """MLflow's experiment filter: `name` and `tags.<key>` compared with = != LIKE ILIKE,
    joined by AND."""
    for clause in _split_and(text):
        words = clause.split(None, 2)
        if len(words) != 3:
            raise InvalidArgument(f"filter {text!r}: {clause!r} is not '<field> <op> <value>'")
        field, op, raw = words
        value = raw.strip()
        if len(value) < 2 or value[0] not in "'\"" or value[-1] != value[0]:
            raise InvalidArgument(f"filter {text!r}: {raw!r} is not a quoted string")
        value = value[1:-1]
        field = field.removeprefix("attributes.").removeprefix("attribute.")
        if field == "name":
            have: str | None = experiment.name
        elif field.startswith(("tags.", "tag.")):
            key = field.split(".", 1)[1].strip('`"')
            got = experiment.properties.get(key)
            have = None if got is None else str(got)
        else:
            raise InvalidArgument(f"filter {text!r}: experiments are filtered by name or tags")
        op = op.upper()
        if have is None:
            return False
        pattern = fnmatch.translate(value.replace("*", "[*]").replace("%", "*").replace("_", "?"))
        ok = {
            "=": have == value,
            "!=": have != value,
            "LIKE": re.match(pattern, have) is not None,
            "ILIKE": re.match(pattern, have, re.IGNORECASE) is not None,
        }.get(op)
        if ok is None:
            raise InvalidArgument(f"filter {text!r}: {op} is not = != LIKE ILIKE")
        if not ok:
            return False
    return True


def _split_and(text: str) -> list[str]:
    return [p for p in re.split(r"\s+and\s+", text, flags=re.IGNORECASE) if p.strip()]


@router.post("/experiments/search")
def search_experiments_post(
    db: DB, who: Caller, body: messages.SearchExperiments
) -> dict[str, Any]:
    return _search_experiments(db, who, body)


@router.get("/experiments/search")
def search_experiments_get(
    db: DB,
    who: Caller,
    max_results: Annotated[int, Query(ge=1, le=messages.MAX_SEARCH_RESULTS)] = 1000,
    page_token: Annotated[str, Query(max_length=40)] = "",
    filter: Annotated[str, Query(max_length=4000)] = "",
    view_type: Annotated[str, Query(max_length=20)] = "ACTIVE_ONLY",
) -> dict[str, Any]:
    body = messages.SearchExperiments(
        max_results=max_results, page_token=page_token, filter=filter, view_type=view_type
    )
    return _search_experiments(db, who, body)


@router.post("/experiments/update")
def update_experiment(db: DB, who: Caller, body: messages.UpdateExperiment) -> dict[str, Any]:
    experiments.rename(db, who, experiment_of(db, who, body.experiment_id).id, body.new_name)
    return {}


@router.post("/experiments/delete")
def delete_experiment(db: DB, who: Caller, body: messages.ExperimentRef) -> dict[str, Any]:
    target = experiment_of(db, who, body.experiment_id)
    if target.name == experiments.DEFAULT:
        raise InvalidArgument("the Default experiment cannot be deleted")
    experiments.set_deleted(db, who, target.id, True)
    return {}


@router.post("/experiments/restore")
def restore_experiment(db: DB, who: Caller, body: messages.ExperimentRef) -> dict[str, Any]:
    experiments.set_deleted(db, who, experiment_of(db, who, body.experiment_id).id, False)
    return {}


@router.post("/experiments/set-experiment-tag")
def set_experiment_tag(db: DB, who: Caller, body: messages.SetExperimentTag) -> dict[str, Any]:
    target = experiment_of(db, who, body.experiment_id)
    experiments.tag(db, who, target.id, {body.key: body.value})
    return {}


@router.post("/experiments/delete-experiment-tag")
def delete_experiment_tag(
    db: DB, who: Caller, body: messages.DeleteExperimentTag
) -> dict[str, Any]:
    target = experiment_of(db, who, body.experiment_id)
    if body.key not in target.properties:
        raise NotFound(f"experiment {body.experiment_id} has no tag {body.key!r}")
    experiments.tag(db, who, target.id, {}, [body.key])
    return {}


# Runs ----------------------------------------------------------------------------------------


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
        runs.log_metrics(db, who, run, _batch(plain), None)
    by_model: dict[str, list[Any]] = {}
    for p in points:
        if p.model_id:
            by_model.setdefault(p.model_id, []).append(p)
    for model, linked in by_model.items():
        runs.log_metrics_once(db, who, run, _batch(linked))
        logged = [
            {"key": p.key, "value": wire.number(p.value), "timestamp": p.timestamp, "step": p.step}
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
    if body.key not in view.run.tags:
        raise NotFound(f"run {body.run} has no tag {body.key!r}", details={"tag": body.key})
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
        lifecycle=_view(body.run_view_type),
    )
    out: dict[str, Any] = {"runs": _runs(db, who, page.items)}
    if page.next_cursor:
        out["next_page_token"] = page.next_cursor
    return wire.json(out)


@router.get("/metrics/get-history")
def get_metric_history(
    db: DB,
    who: Caller,
    metric_key: Annotated[str, Query(min_length=1, max_length=messages.KEY)],
    run_id: Annotated[str, Query(max_length=64)] = "",
    run_uuid: Annotated[str, Query(max_length=64)] = "",
    max_results: Annotated[int | None, Query(ge=1, le=HISTORY_PAGE)] = None,
    page_token: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    ref = run_id or run_uuid
    if not ref:
        raise InvalidArgument("run_id is required")
    if page_token and not (page_token.isascii() and page_token.isdigit()):
        raise InvalidArgument(f"page_token {page_token!r} is not one this server gave")
    found = runs.history(db, who, ref, metric_key, max_points=HISTORY_PAGE)
    start = int(page_token or 0)
    end = len(found.steps) if max_results is None else min(len(found.steps), start + max_results)
    points = [
        {"key": metric_key, "value": wire.number(v), "timestamp": t, "step": s}
        for s, t, v in zip(
            found.steps[start:end],
            found.timestamps[start:end],
            found.values[start:end],
            strict=True,
        )
    ]
    out: dict[str, Any] = {"metrics": points}
    if end < len(found.steps):
        out["next_page_token"] = str(end)
    return wire.json(out)


@router.get("/metrics/get-history-bulk-interval")
def get_metric_history_bulk_interval(
    db: DB,
    who: Caller,
    metric_key: Annotated[str, Query(min_length=1, max_length=messages.KEY)],
    run_ids: Annotated[list[str], Query(min_length=1, max_length=100)],
    start_step: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
    end_step: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
    max_results: Annotated[int, Query(ge=1, le=1000)] = 320,
) -> Response:
    """Up to `max_results` logged points of each run between the steps, evenly spaced by
    position and always with the first and last (what MLflow's charts ask for)."""
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidArgument("start_step is after end_step")
    points: list[dict[str, Any]] = []
    for ref in run_ids:
        found = runs.history(
            db,
            who,
            ref,
            metric_key,
            max_points=HISTORY_PAGE,
            min_step=start_step,
            max_step=end_step,
        )
        n = len(found.steps)
        if n <= max_results:
            picks: Sequence[int] = range(n)
        elif max_results == 1:
            picks = [n - 1]
        else:
            picks = sorted({round(i * (n - 1) / (max_results - 1)) for i in range(max_results)})
        points += [
            {
                "key": metric_key,
                "value": wire.number(found.values[i]),
                "timestamp": found.timestamps[i],
                "step": found.steps[i],
                "run_id": ref,
            }
            for i in picks
        ]
    points.sort(key=lambda p: (p["run_id"], p["step"], p["timestamp"]))
    return wire.json({"metrics": points})
