"""MLflow's experiment routes: an experiment is an mlledger `experiment` context ("0" is the
project's `Default`), tags are its properties, deletion a restorable mark."""

from __future__ import annotations

import fnmatch
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mlledger.store.entities import Context
from mlledger.store.errors import InvalidArgument, NotFound

from ..deps import DB, Caller
from ..domain import experiments
from ..domain.principal import Principal
from . import messages, wire
from .errors import PREFIX
from .lookup import experiment_of, lifecycle_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)


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
    found = experiments.listing(db, who, lifecycle_of(body.view_type))
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
        raise NotFound(
            f"No tag with name: {body.key} in experiment with id {body.experiment_id}",
            details={"tag": body.key},
        )
    experiments.tag(db, who, target.id, {}, [body.key])
    return {}


MAX_DATASET_EXPERIMENTS = 20  # MLflow's limit on search-datasets


@router.post("/experiments/search-datasets")
def search_datasets(db: DB, who: Caller, body: messages.SearchDatasets) -> dict[str, Any]:
    """The datasets an experiment's runs logged as inputs (MLflow's UI lists them)."""
    if not body.experiment_ids:
        raise InvalidArgument("SearchDatasets request must specify at least one experiment_id.")
    if len(body.experiment_ids) > MAX_DATASET_EXPERIMENTS:
        raise InvalidArgument(
            f"SearchDatasets request cannot specify more than {MAX_DATASET_EXPERIMENTS} "
            f"experiment_ids. Received {len(body.experiment_ids)} experiment_ids."
        )
    found = [experiment_of(db, who, e) for e in body.experiment_ids]
    wire_ids = {e.id: wire.experiment_id(e) for e in found}
    summaries = []
    for experiment, artifact, role in experiments.datasets(db, who, list(wire_ids)):
        shown = wire.dataset(artifact)
        summaries.append(
            {
                "experiment_id": wire_ids[experiment],
                "name": shown["name"],
                "digest": shown.get("digest", ""),
                "context": role or "",
            }
        )
    return {"dataset_summaries": summaries}
