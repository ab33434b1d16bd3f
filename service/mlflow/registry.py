"""MLflow's model registry routes (`registered-models/...`, `model-versions/...`) on mlledger's
registry: versions are model artifacts, aliases move by the same rules — the `production` alias
of a gated model only by `mlledger push`, so MLflow's client cannot go around a gate."""

from __future__ import annotations

import re
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mlledger.store.entities import Artifact, ModelVersion, RegisteredModel
from mlledger.store.errors import (
    AlreadyExists,
    GateBlocked,
    InvalidArgument,
    NotFound,
)
from mlledger.store.metadata.artifacts import NewArtifact

from ..deps import DB, Caller
from ..domain import logged_models, models, runs, verdicts
from ..domain.principal import Principal
from . import messages, wire
from .errors import PREFIX
from .lookup import model_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Name = Annotated[str, Query(min_length=1, max_length=messages.NAME)]
_NAME_FILTER = re.compile(
    r"""^\s*name\s*(?P<op>=|like|ilike)\s*(?P<q>['"])(?P<value>.*?)(?P=q)\s*$""", re.I
)
_VERSION_FILTER = re.compile(
    r"""^\s*(?P<field>name|run_id)\s*=\s*(?P<q>['"])(?P<value>.*?)(?P=q)\s*$"""
)


def _number(version: str) -> int:
    if not (version.isascii() and version.isdigit() and len(version) <= 18):
        raise InvalidArgument(f"version {version!r} is not a version number")
    return int(version)


RUN_ELSEWHERE = "mlflow_run_id"  # a version's run id that names no run of this server


def _version_out(
    v: ModelVersion, arts: dict[int, Artifact], run_uuids: dict[int, str]
) -> dict[str, Any]:
    art = arts.get(v.artifact_id)
    logged = art is not None and "mlflow" in art.properties
    out: dict[str, Any] = {
        "name": v.model,
        "version": str(v.version),
        "creation_timestamp": wire.millis(v.created_at),
        "last_updated_timestamp": wire.millis(v.created_at),
        "current_stage": v.stage,
        "description": v.description or "",
        "source": (
            f"models:/{wire.model_id(v.artifact_id)}"
            if logged
            else _for_mlflow((art.uri if art else "") or "")
        ),
        "status": "READY",
        "tags": [{"key": k, "value": val} for k, val in sorted(v.tags.items())],
        "aliases": sorted(v.aliases),
    }
    if v.run_id is not None and v.run_id in run_uuids:
        out["run_id"] = run_uuids[v.run_id]
    elif art is not None and RUN_ELSEWHERE in art.properties:
        out["run_id"] = art.properties[RUN_ELSEWHERE]
    if logged:
        out["model_id"] = wire.model_id(v.artifact_id)
    return out


def _versions_out(db: Any, who: Principal, versions: list[ModelVersion]) -> list[dict[str, Any]]:
    arts, run_uuids = models.sources(db, who, versions)
    return [_version_out(v, arts, run_uuids) for v in versions]


def _model_out(db: Any, who: Principal, model: RegisteredModel) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": model.name,
        "creation_timestamp": wire.millis(model.created_at),
        "last_updated_timestamp": wire.millis(model.updated_at),
        "description": model.description or "",
        "tags": [{"key": k, "value": v} for k, v in sorted(model.tags.items())],
        "aliases": [{"alias": a, "version": str(n)} for a, n in sorted(model.aliases.items())],
    }
    if model.latest_version:
        latest = models.version(db, who, model.name, model.latest_version)
        out["latest_versions"] = _versions_out(db, who, [latest])
    return out


# Registered models ---------------------------------------------------------------------------


@router.post("/registered-models/create")
def create_registered_model(
    db: DB, who: Caller, body: messages.CreateRegisteredModel
) -> dict[str, Any]:
    made, created = models.create_model(
        db, who, body.name, body.description or None, {t.key: t.value for t in body.tags}
    )
    if not created:
        raise AlreadyExists(f"registered model {body.name!r} already exists")
    return {"registered_model": _model_out(db, who, made)}


@router.get("/registered-models/get")
def get_registered_model(db: DB, who: Caller, name: Name) -> dict[str, Any]:
    return {"registered_model": _model_out(db, who, models.get(db, who, name))}


@router.get("/registered-models/search")
def search_registered_models(
    db: DB,
    who: Caller,
    filter: Annotated[str, Query(max_length=1000)] = "",
    max_results: Annotated[int, Query(ge=1, le=1000)] = 100,
    page_token: Annotated[str, Query(max_length=200)] = "",
) -> dict[str, Any]:
    like = None
    if filter.strip():
        m = _NAME_FILTER.match(filter)
        if m is None:
            raise InvalidArgument(
                f"filter {filter!r}: registered models are searched by name = / LIKE / ILIKE '...'"
            )
        if m["op"] == "=":
            try:
                found = [models.get(db, who, m["value"])]
            except NotFound:
                found = []
            return {"registered_models": [_model_out(db, who, x) for x in found]}
        like = m["value"]
    page = models.list_models(db, who, name_like=like, limit=max_results, cursor=page_token or None)
    out: dict[str, Any] = {"registered_models": [_model_out(db, who, x) for x in page.items]}
    if page.next_cursor:
        out["next_page_token"] = page.next_cursor
    return out


@router.patch("/registered-models/update")
def update_registered_model(
    db: DB, who: Caller, body: messages.UpdateRegisteredModel
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if body.description is not None:
        kwargs["description"] = body.description
    return {
        "registered_model": _model_out(db, who, models.update_model(db, who, body.name, **kwargs))
    }


@router.post("/registered-models/set-tag")
def set_registered_model_tag(
    db: DB, who: Caller, body: messages.RegisteredModelTag
) -> dict[str, Any]:
    models.update_model(db, who, body.name, tags={body.key: body.value})
    return {}


@router.delete("/registered-models/delete-tag")
def delete_registered_model_tag(
    db: DB, who: Caller, body: messages.RegisteredModelTagRef
) -> dict[str, Any]:
    models.update_model(db, who, body.name, remove_tags=[body.key])
    return {}


@router.post("/registered-models/get-latest-versions")
def get_latest_versions(db: DB, who: Caller, body: messages.GetLatestVersions) -> dict[str, Any]:
    found = models.latest_in_stages(db, who, body.name, body.stages)
    return {"model_versions": _versions_out(db, who, found)}


# Aliases -------------------------------------------------------------------------------------


@router.post("/registered-models/alias")
def set_registered_model_alias(db: DB, who: Caller, body: messages.SetAlias) -> dict[str, Any]:
    number = _number(body.version)
    try:
        models.set_alias(db, who, body.name, body.alias, number)
    except GateBlocked as blocked:
        raise _gated(db, who, body.name, number, blocked) from None
    return {}


def _gated(db: Any, who: Principal, name: str, number: int, blocked: GateBlocked) -> GateBlocked:
    """The gate's refusal with what `mlledger push` would say of this version."""
    verdict = verdicts.verdict(db, who, name, number)
    reasons = "; ".join(r.message for r in verdict.reasons) or "none: push it"
    return GateBlocked(
        f"{blocked.message}. Use `mlledger push --model {name} --version {number}`. "
        f"What the push would refuse now: {reasons}",
        details={**(blocked.details or {}), "reasons": [r.message for r in verdict.reasons]},
    )


@router.delete("/registered-models/alias")
def delete_registered_model_alias(db: DB, who: Caller, body: messages.AliasRef) -> dict[str, Any]:
    try:
        models.set_alias(db, who, body.name, body.alias, None)
    except GateBlocked as blocked:
        raise GateBlocked(
            f"{blocked.message}; `mlledger push --rollback` moves it back", details=blocked.details
        ) from None
    return {}


@router.get("/registered-models/alias")
def get_model_version_by_alias(
    db: DB, who: Caller, name: Name, alias: Annotated[str, Query(min_length=1, max_length=250)]
) -> dict[str, Any]:
    found = models.alias(db, who, name, alias)
    return {"model_version": _versions_out(db, who, [found])[0]}


# Model versions ------------------------------------------------------------------------------


@router.post("/model-versions/create")
def create_model_version(db: DB, who: Caller, body: messages.CreateModelVersion) -> dict[str, Any]:
    """`models:/m-...` (a logged model) registers that model artifact; any other source
    becomes a new model artifact at that URI."""
    logged = body.model_id or (
        body.source.removeprefix("models:/") if body.source.startswith("models:/m-") else ""
    )
    artifact_id = model_of(logged) if logged else None
    if artifact_id is None and not body.source:
        raise InvalidArgument("source is required (a models:/m-... URI or the model's location)")
    _check_source(body.source, body.run_id)
    if artifact_id is not None and not body.source.startswith("models:/"):
        location = logged_models.get(db, who, artifact_id).uri or ""
        if body.source.rstrip("/") != location.rstrip("/"):
            raise InvalidArgument(
                f"Invalid model version source: {body.source!r} is not the location of logged "
                f"model {logged} ({location!r}) nor its models:/ URI",
                details={"source": body.source},
            )
    run = body.run_id or None
    if artifact_id is not None and run is None:  # the logged model knows the run it came from
        run = logged_models.get(db, who, artifact_id).properties["mlflow"].get("source_run")
    elsewhere: dict[str, Any] = {}
    if run is not None and not runs.exists(db, who, run):
        # MLflow's registry takes any run id (a run of another server); it is kept as given,
        # and the version has no lineage edge to a run this server does not know.
        elsewhere, run = {RUN_ELSEWHERE: run}, None
    version, _, _ = models.register(
        db,
        who,
        body.name,
        run=run,
        artifact=None
        if artifact_id is not None
        else NewArtifact(kind="model", name=body.name, uri=body.source, properties=elsewhere),
        artifact_id=artifact_id,
        description=body.description or None,
        tags={t.key: t.value for t in body.tags} or None,
    )
    if artifact_id is not None:
        logged_models.note_version(db, who, artifact_id, body.name, version.version)
    return {"model_version": _versions_out(db, who, [version])[0]}


_RELATIVE = (
    "If supplying a source as an http, https, local file path, ftp, objectstore, or "
    "mlflow-artifacts uri, an absolute path must be provided without relative path references "
    "present. Please provide an absolute path."
)
_LOCAL = (
    "To use a local path as a model version source, the run_id request parameter has to be "
    "specified and the local path has to be contained within the artifact directory of the run "
    "specified by the run_id."
)


def _check_source(source: str, run_id: str) -> None:
    """MLflow's rules for a version's source: no `..` or NUL in a location (a version must not
    point a model server outside where it was put), and a local path only inside the run's
    artifacts, which on this server are never local files."""
    scheme, sep, rest = source.partition(":")
    if not sep or scheme.lower() == "file" or len(scheme) == 1:  # a path, or C:\...
        raise InvalidArgument(_LOCAL, details={"source": source, "run_id": run_id})
    decoded = urllib.parse.unquote(rest)
    if "\x00" in decoded or ".." in decoded.replace("\\", "/").split("/"):
        raise InvalidArgument(_RELATIVE, details={"source": source})


@router.get("/model-versions/get")
def get_model_version(
    db: DB, who: Caller, name: Name, version: Annotated[str, Query(max_length=20)]
) -> dict[str, Any]:
    found = models.version(db, who, name, _number(version))
    return {"model_version": _versions_out(db, who, [found])[0]}


@router.get("/model-versions/search")
def search_model_versions(
    db: DB,
    who: Caller,
    filter: Annotated[str, Query(max_length=1000)] = "",
    max_results: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
    page_token: Annotated[str, Query(max_length=200)] = "",
) -> dict[str, Any]:
    wanted: dict[str, str] = {}
    for clause in re.split(r"\s+and\s+", filter.strip(), flags=re.I) if filter.strip() else []:
        m = _VERSION_FILTER.match(clause)
        if m is None:
            raise InvalidArgument(
                f"filter {filter!r}: model versions are searched by name = '...' and run_id = '...'"
            )
        wanted[m["field"]] = m["value"]
    if "name" not in wanted:
        raise InvalidArgument("filter: name = '...' is required to search model versions")
    page = models.versions(db, who, wanted["name"], limit=max_results, cursor=page_token or None)
    shown = _versions_out(db, who, list(page.items))
    if "run_id" in wanted:
        shown = [v for v in shown if v.get("run_id") == wanted["run_id"]]
    out: dict[str, Any] = {"model_versions": shown}
    if page.next_cursor:
        out["next_page_token"] = page.next_cursor
    return out


@router.patch("/model-versions/update")
def update_model_version(db: DB, who: Caller, body: messages.UpdateModelVersion) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if body.description is not None:
        kwargs["description"] = body.description
    found = models.update_version(db, who, body.name, _number(body.version), **kwargs)
    return {"model_version": _versions_out(db, who, [found])[0]}


@router.post("/model-versions/set-tag")
def set_model_version_tag(db: DB, who: Caller, body: messages.ModelVersionTag) -> dict[str, Any]:
    models.update_version(db, who, body.name, _number(body.version), tags={body.key: body.value})
    return {}


@router.delete("/model-versions/delete-tag")
def delete_model_version_tag(
    db: DB, who: Caller, body: messages.ModelVersionTagRef
) -> dict[str, Any]:
    models.update_version(db, who, body.name, _number(body.version), remove_tags=[body.key])
    return {}


@router.get("/model-versions/get-download-uri")
def get_model_version_download_uri(
    db: DB, who: Caller, name: Name, version: Annotated[str, Query(max_length=20)]
) -> dict[str, Any]:
    found = models.version(db, who, name, _number(version))
    arts, _ = models.sources(db, who, [found])
    art = arts.get(found.artifact_id)
    return {"artifact_uri": _for_mlflow((art.uri if art else None) or "")}


def _for_mlflow(uri: str) -> str:
    """mlledger's own uploads are in the same store MLflow's client reads through
    `mlflow-artifacts:` (so `models:/NAME@production` loads a model logged by either)."""
    own = "mlledger-artifacts:/"
    return "mlflow-artifacts:/" + uri[len(own) :] if uri.startswith(own) else uri


@router.post("/registered-models/rename")
def rename_registered_model(
    db: DB, who: Caller, body: messages.RenameRegisteredModel
) -> dict[str, Any]:
    """Allowed while no gate or push names the model (then its name is part of the record)."""
    return {
        "registered_model": _model_out(db, who, models.rename(db, who, body.name, body.new_name))
    }


@router.delete("/registered-models/delete")
def delete_registered_model(
    db: DB, who: Caller, body: messages.RegisteredModelRef
) -> dict[str, Any]:
    """The registry entry goes; the versions' model artifacts stay in the lineage graph."""
    models.delete(db, who, body.name)
    return {}


@router.delete("/model-versions/delete")
def delete_model_version(db: DB, who: Caller, body: messages.VersionRef) -> dict[str, Any]:
    models.delete(db, who, body.name, _number(body.version))
    return {}


@router.post("/model-versions/transition-stage")
def transition_stage(db: DB, who: Caller, body: messages.TransitionStage) -> dict[str, Any]:
    """MLflow's deprecated stages, kept for clients that still move them; a gated model's
    Production is refused (its production moves only by push)."""
    moved = models.set_stage(
        db, who, body.name, _number(body.version), body.stage, body.archive_existing_versions
    )
    return {"model_version": _versions_out(db, who, [moved])[0]}
