"""Logged models (MLflow 3's `log_model`): a `model` artifact, pending while its files upload
and live once finalized, written by its source run (an OUTPUT edge) and attributed to the
run's experiment — so the model registry, gates and lineage see it as any other model.

What only MLflow asks of a logged model (its type, params, tags, metrics) is kept in the
artifact's properties under `mlflow`; its files are the artifact store's, under the folder
its URI names, and its fingerprint is that folder's (client/fingerprint.py's definition).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Event
from mlledger.store.errors import InvalidArgument, NotFound
from mlledger.store.files import paths
from mlledger.store.metadata import artifacts, audit, contexts, events
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.tracking import experiments, runs

from .principal import Principal

KIND = "model"
VERSIONS_TAG = "mlflow.modelVersions"


def folder_of(experiment_wire_id: str, model_id: str) -> str:
    """Where a logged model's files live in the artifact store (as MLflow's server lays out)."""
    return f"{experiment_wire_id}/models/{model_id}/artifacts"


def create(
    db: Database,
    who: Principal,
    *,
    experiment_id: int,
    experiment_wire_id: str,
    name: str,
    run: str | None,
    model_type: str,
    params: Mapping[str, str],
    tags: Mapping[str, str],
    model_id_of: Any,
) -> Artifact:
    """A pending model artifact; `model_id_of(artifact_id)` names it for the caller's protocol
    (its URI holds that name)."""
    who.require("write")
    with db.write() as session:
        experiment = experiments.get(session, who.project_id, experiment_id)
        source = None
        if run:
            # MLflow's server takes any source run id; one of a run here makes the lineage
            # edge, another is kept as given.
            try:
                source = runs.get(session, who.project_id, run, for_update=True)
            except NotFound:
                source = None
        ((made, _),) = artifacts.create_many(
            session,
            who.project_id,
            [
                NewArtifact(
                    kind=KIND,
                    name=name,
                    state="pending",
                    properties={
                        "mlflow": {
                            "experiment_id": experiment.id,
                            "experiment": experiment_wire_id,
                            "model_type": model_type,
                            "params": dict(params),
                            "tags": dict(tags),
                            "metrics": [],
                            "source_run": source.uuid if source else run,
                            "status": "pending",
                        }
                    },
                )
            ],
        )
        model_id = model_id_of(made.id)
        made = artifacts.fill_in(
            session,
            who.project_id,
            made.id,
            uri=f"mlflow-artifacts:/{folder_of(experiment_wire_id, model_id)}",
        )
        if source is not None:
            events.add_many(session, [Event(source.id, made.id, "OUTPUT", "model")])
        contexts.attach(session, attributions=[(experiment.id, made.id)])
        audit.record(
            session,
            who.project_id,
            who.actor,
            [audit.AuditEntry("model.log", "artifact", made.id, {"name": name, "run": run})],
        )
        return made


def get(db: Database, who: Principal, artifact_id: int) -> Artifact:
    who.require("read")
    with db.read() as session:
        return _model(session, who, artifact_id)


def _model(session: Any, who: Principal, artifact_id: int) -> Artifact:
    found = artifacts.get_many(session, who.project_id, [artifact_id]).get(artifact_id)
    # A deleted logged model is gone for MLflow's client; its artifact stays in the lineage.
    if (
        found is None
        or found.kind != KIND
        or "mlflow" not in found.properties
        or found.state == "deleted"
    ):
        raise NotFound(
            f"logged model {artifact_id} does not exist", details={"logged_model": artifact_id}
        )
    return found


def _change(db: Database, who: Principal, artifact_id: int, edit: Any) -> Artifact:
    who.require("write")
    with db.write() as session:
        found = _model(session, who, artifact_id)
        mlflow = dict(found.properties["mlflow"])
        edit(mlflow)
        return artifacts.fill_in(
            session,
            who.project_id,
            artifact_id,
            properties={**found.properties, "mlflow": mlflow},
        )


def finalize(db: Database, who: Principal, artifact_id: int, *, ready: bool) -> Artifact:
    """READY: the model goes live with the fingerprint of its uploaded files; a failed upload
    leaves it pending, marked failed."""
    who.require("write")
    with db.write() as session:
        found = _model(session, who, artifact_id)
        mlflow = dict(found.properties["mlflow"])
        if not ready:
            mlflow["status"] = "failed"
            return artifacts.fill_in(
                session,
                who.project_id,
                artifact_id,
                properties={**found.properties, "mlflow": mlflow},
            )
        folder = (found.uri or "").removeprefix("mlflow-artifacts:/")
        stored = paths.under(session, who.project_id, folder) if folder else []
        fingerprint = None
        if stored:  # client/fingerprint.py's directory manifest, from the stored digests
            manifest = "".join(f"{f.digest}  {f.path[len(folder) + 1 :]}\n" for f in stored)
            fingerprint = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        mlflow["status"] = "ready"
        props = {
            **found.properties,
            "mlflow": mlflow,
            "size_bytes": sum(f.size for f in stored),
            "files": len(stored),
        }
        changed = artifacts.fill_in(
            session,
            who.project_id,
            artifact_id,
            fingerprint=fingerprint,
            properties=props,
            state="live",
        )
        audit.record(
            session,
            who.project_id,
            who.actor,
            [audit.AuditEntry("model.finalize", "artifact", artifact_id, {"files": len(stored)})],
        )
        return changed


def tag(
    db: Database, who: Principal, artifact_id: int, tags: Mapping[str, str], remove: Sequence[str]
) -> Artifact:
    def edit(mlflow: dict[str, Any]) -> None:
        merged = {**mlflow.get("tags", {}), **tags}
        for key in remove:
            if key not in merged:
                raise NotFound(
                    f"logged model {artifact_id} has no tag {key!r}",
                    details={"tag": key, "logged_model": artifact_id},
                )
            merged.pop(key)
        mlflow["tags"] = merged

    return _change(db, who, artifact_id, edit)


def log_params(
    db: Database, who: Principal, artifact_id: int, params: Mapping[str, str]
) -> Artifact:
    def edit(mlflow: dict[str, Any]) -> None:
        mlflow["params"] = {**mlflow.get("params", {}), **params}

    return _change(db, who, artifact_id, edit)


def log_metrics(
    db: Database, who: Principal, artifact_id: int, points: Sequence[dict[str, Any]]
) -> Artifact:
    """Metrics MLflow attaches to a model (its run's, re-sent with the model's id): each
    distinct point once."""

    def edit(mlflow: dict[str, Any]) -> None:
        have = list(mlflow.get("metrics", []))
        for p in points:
            if p not in have:
                have.append(p)
        mlflow["metrics"] = have

    return _change(db, who, artifact_id, edit)


def note_version(db: Database, who: Principal, artifact_id: int, name: str, version: int) -> None:
    """Registered versions of the model, in the `mlflow.modelVersions` tag MLflow's client
    reads on a logged model."""

    def edit(mlflow: dict[str, Any]) -> None:
        tags = dict(mlflow.get("tags", {}))
        listed = json.loads(tags.get(VERSIONS_TAG, "[]"))
        entry = {"name": name, "version": version}
        if entry not in listed:
            listed.append(entry)
        tags[VERSIONS_TAG] = json.dumps(listed)
        mlflow["tags"] = tags

    _change(db, who, artifact_id, edit)


def note_output(db: Database, who: Principal, artifact_id: int, run_uuid: str, step: int) -> None:
    """The step at which a run output the model (MLflow's `LoggedModelOutput.step`)."""

    def edit(mlflow: dict[str, Any]) -> None:
        mlflow["output_steps"] = {**mlflow.get("output_steps", {}), run_uuid: step}

    _change(db, who, artifact_id, edit)


def delete(db: Database, who: Principal, artifact_id: int) -> Artifact:
    who.require("write")
    with db.write() as session:
        _model(session, who, artifact_id)
        return artifacts.set_state(session, who.project_id, artifact_id, "deleted")


def search(
    db: Database,
    who: Principal,
    experiment_ids: Sequence[int],
    *,
    name: str | None,
    source_run: str | None,
    limit: int,
    offset: int,
    datasets: Sequence[tuple[str, str | None]] = (),
) -> list[Artifact]:
    """Newest first; `datasets` keeps the models with a metric on one of those (name, digest)
    datasets (a None digest: any digest of that name)."""
    who.require("read")
    if not experiment_ids:
        raise InvalidArgument("experiment_ids: name at least one experiment")
    with db.read() as session:
        found: list[Artifact] = []
        skip = offset
        batch = 0
        while len(found) < limit:
            page = artifacts.of_contexts(
                session,
                who.project_id,
                experiment_ids,
                kind=KIND,
                name=name,
                limit=500,
                offset=batch * 500,
            )
            batch += 1
            for a in page:
                meta = a.properties.get("mlflow")
                if meta is None or a.state == "deleted":
                    continue
                if source_run is not None and meta.get("source_run") != source_run:
                    continue
                if datasets and not any(
                    (m.get("dataset_name"), m.get("dataset_digest") if d is not None else None)
                    == (n, d)
                    for m in meta.get("metrics", [])
                    for n, d in datasets
                ):
                    continue
                if skip:
                    skip -= 1
                    continue
                found.append(a)
            if len(page) < 500:
                break
        return found[:limit]
