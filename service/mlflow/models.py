"""MLflow 3's logged models (`/api/2.0/mlflow/logged-models...`) and run outputs: what
`mlflow.<flavor>.log_model` calls, on the logged-model use cases (a `model` artifact)."""

from __future__ import annotations

import functools
import re
import uuid
from typing import Any

from fastapi import APIRouter

from mlledger.store.errors import InvalidArgument

from ..deps import DB, Caller
from ..domain import logged_models, runs
from . import messages, wire
from .errors import PREFIX
from .lookup import experiment_of, model_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)

_READY = {"LOGGED_MODEL_READY", 2}
_FAILED = {"LOGGED_MODEL_UPLOAD_FAILED", 3}
# What MLflow's client sends to find a run's model: `name = 'x'` (and `source_run_id`), AND-ed.
_CLAUSE = re.compile(
    r"""^\s*(?:attributes\.)?(?P<field>name|source_run_id)\s*=\s*(?P<q>['"])(?P<value>.*?)(?P=q)\s*$"""
)


@router.post("/logged-models")
def create_logged_model(db: DB, who: Caller, body: messages.CreateLoggedModel) -> dict[str, Any]:
    experiment = experiment_of(db, who, body.experiment_id or wire.DEFAULT_ID)
    made = logged_models.create(
        db,
        who,
        experiment_id=experiment.id,
        experiment_wire_id=wire.experiment_id(experiment),
        name=body.name or f"model-{uuid.uuid4().hex[:8]}",  # MLflow's server names it too
        run=body.source_run_id or None,
        model_type=body.model_type,
        params={p.key: p.value for p in body.params},
        tags={t.key: t.value for t in body.tags},
        model_id_of=wire.model_id,
    )
    return {"model": wire.logged_model(made)}


@router.get("/logged-models/{model_id}")
def get_logged_model(model_id: str, db: DB, who: Caller) -> dict[str, Any]:
    return {"model": wire.logged_model(logged_models.get(db, who, model_of(model_id)))}


@router.patch("/logged-models/{model_id}")
def finalize_logged_model(
    model_id: str, db: DB, who: Caller, body: messages.FinalizeLoggedModel
) -> dict[str, Any]:
    status = body.status.upper() if isinstance(body.status, str) else body.status
    if status not in _READY | _FAILED:
        raise InvalidArgument(f"status {body.status!r} is not LOGGED_MODEL_READY or _UPLOAD_FAILED")
    done = logged_models.finalize(db, who, model_of(model_id), ready=status in _READY)
    return {"model": wire.logged_model(done)}


@router.delete("/logged-models/{model_id}")
def delete_logged_model(model_id: str, db: DB, who: Caller) -> dict[str, Any]:
    logged_models.delete(db, who, model_of(model_id))
    return {}


@router.patch("/logged-models/{model_id}/tags")
def set_logged_model_tags(
    model_id: str, db: DB, who: Caller, body: messages.LoggedModelTags
) -> dict[str, Any]:
    done = logged_models.tag(db, who, model_of(model_id), {t.key: t.value for t in body.tags}, [])
    return {"model": wire.logged_model(done)}


@router.delete("/logged-models/{model_id}/tags/{key}")
def delete_logged_model_tag(model_id: str, key: str, db: DB, who: Caller) -> dict[str, Any]:
    logged_models.tag(db, who, model_of(model_id), {}, [key])
    return {}


@router.post("/logged-models/{model_id}/params")
def log_logged_model_params(
    model_id: str, db: DB, who: Caller, body: messages.LoggedModelParams
) -> dict[str, Any]:
    logged_models.log_params(db, who, model_of(model_id), {p.key: p.value for p in body.params})
    return {}


@router.post("/logged-models/search")
def search_logged_models(db: DB, who: Caller, body: messages.SearchLoggedModels) -> dict[str, Any]:
    ids = [experiment_of(db, who, e).id for e in body.experiment_ids]
    wanted: dict[str, str] = {}
    if body.filter.strip():
        for clause in re.split(r"\s+and\s+", body.filter.strip(), flags=re.IGNORECASE):
            m = _CLAUSE.match(clause)
            if m is None:
                raise InvalidArgument(
                    f"filter {body.filter!r}: logged models are searched by name = '...' and "
                    "source_run_id = '...'",
                    details={"filter": body.filter},
                )
            wanted[m["field"]] = m["value"]
    offset = int(body.page_token) if body.page_token.isdigit() else 0
    if body.page_token and not body.page_token.isdigit():
        raise InvalidArgument(f"page_token {body.page_token!r} is not one this server gave")
    datasets = [(d.dataset_name, d.dataset_digest or None) for d in body.datasets]
    search = functools.partial(
        logged_models.search,
        db,
        who,
        ids,
        name=wanted.get("name"),
        source_run=wanted.get("source_run_id"),
        datasets=datasets,
    )
    orders = [(o.field_name, o.ascending) for o in body.order_by]
    if orders and orders != [("creation_timestamp", False)]:
        # Orders other than newest first sort the experiments' models in memory (at most
        # SORTED_MODELS of them: a project logs models per training, not per step).
        every = search(limit=SORTED_MODELS + 1, offset=0)
        if len(every) > SORTED_MODELS:
            raise InvalidArgument(
                f"order_by sorts at most {SORTED_MODELS} logged models; add a filter",
                details={"order_by": [o.field_name for o in body.order_by]},
            )
        for field, ascending in reversed(orders):
            every.sort(key=_model_order(field), reverse=not ascending)
        found = every[offset : offset + body.max_results + 1]
    else:
        found = search(limit=body.max_results + 1, offset=offset)
    out: dict[str, Any] = {"models": [wire.logged_model(m) for m in found[: body.max_results]]}
    if len(found) > body.max_results:
        out["next_page_token"] = str(offset + body.max_results)
    return out


SORTED_MODELS = 10_000


def _model_order(field: str) -> Any:
    keys: dict[str, Any] = {
        "creation_timestamp": lambda a: a.id,  # ids grow with creation
        "creation_time": lambda a: a.id,
        "last_updated_timestamp": lambda a: a.id,
        "name": lambda a: a.name,
        "model_id": lambda a: a.id,
    }
    if field not in keys:
        raise InvalidArgument(
            f"order_by: logged models are ordered by {', '.join(sorted(keys))}, not {field!r}",
            details={"order_by": field},
        )
    return keys[field]


@router.post("/runs/outputs")
def log_outputs(db: DB, who: Caller, body: messages.LogOutputs) -> dict[str, Any]:
    """The run's models: each is already its output (the edge made with the model); a model
    of another run becomes this run's output too."""
    for output in body.models:
        model = logged_models.get(db, who, model_of(output.model_id))
        runs.attach_output(db, who, body.run, model.id)
        logged_models.note_output(
            db, who, model.id, runs.get(db, who, body.run).run.uuid, output.step
        )
    return {}
