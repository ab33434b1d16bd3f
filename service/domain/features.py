"""Feature use cases: apply definitions, materialize, serve online, build training sets, push —
each recorded in the lineage graph so a model traces back through its training set to the
feature views and their source files."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlledger.client import fingerprint
from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Execution
from mlledger.store.errors import InvalidArgument, NotFound
from mlledger.store.features import definitions, materialization, offline, online, push_source
from mlledger.store.features.engine import applying
from mlledger.store.metadata import artifacts, external_ids
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.executions import NewExecution
from mlledger.validation.reading import DataError

from . import executions
from .executions import ArtifactRef, ExecutionRecord
from .feature_backends import FeatureBackends
from .principal import Principal


def _new(d: definitions.Described) -> NewArtifact:
    return NewArtifact(
        kind=d.kind, name=d.name, uri=d.uri, fingerprint=d.fingerprint, properties=d.properties
    )


def apply(
    db: Database, who: Principal, svc: FeatureBackends, registry: dict[str, Any], source: str | None
) -> dict[str, Any]:
    """Register Feast definitions (Feast's Registry proto in JSON, from `mlledger features
    apply`) declaratively; record changed views and sources as new artifact versions, produced
    by one `features apply` execution; and move the generation, so every process serves them
    from its next request.

    Raises:
        InvalidArgument: a definition this server does not accept, or a file source outside
            `features.data_roots` (named in the message).
    """
    who.require("write")
    store = svc.store(db, who)
    contents = definitions.read(registry, store.project)
    for where, path in definitions.file_paths(contents):
        if "://" not in path and not Path(path).is_absolute():
            raise InvalidArgument(
                f"{where}: {path!r} is relative; the server cannot know to what "
                "(`mlledger features apply` sends absolute paths)",
                details={"path": path},
            )
        try:
            svc.data_roots.resolve(path)
        except DataError as exc:
            raise InvalidArgument(f"{where}: {exc}", details={"path": path}) from exc
    # One apply at a time across the processes (engine.applying), lineage included (two
    # applies of the same definitions record one execution); the others' next request sees
    # it (the generation).
    with svc._applying, applying(svc.engines.cfg):
        store.refresh_registry()  # what another process applied since this one last looked
        definitions.apply(store, contents)  # fills in what Feast infers: described after
        # Feast's cache holds the new definitions before the generation moves: a snapshot any
        # thread takes at the new generation (the online route's, a view listing) reads them,
        # never the cache from before the apply under the new number.
        store.refresh_registry()
        svc.generations.bump(store.project)
        recorded = _record_apply(db, who, contents, source)
    svc.snapshot(store, refresh=True)
    return {
        "project": who.project_name,
        "feature_views": [v.name for v in contents.feature_views],
        "entities": [e.name for e in contents.entities],
        "feature_services": [s.name for s in contents.feature_services],
        "execution_id": recorded.id if recorded else None,
    }


def _record_apply(
    db: Database,
    who: Principal,
    contents: definitions.RepoContents,
    repo: str | None,
) -> Execution | None:
    """One `features apply` execution from the sources to the views, unless every one of
    them is already the latest version of its artifact (nothing changed: nothing recorded)."""
    by_name: dict[str, definitions.Described] = {}
    for view in contents.feature_views:
        for src in definitions.sources_of(view):
            d = definitions.describe_source(src)
            by_name[d.name] = d
    sources = list(by_name.values())
    views = [definitions.describe_view(v) for v in contents.feature_views]
    with db.read() as session:
        for d in [*sources, *views]:
            try:
                latest = artifacts.get_by_name(session, who.project_id, d.name, None)
            except NotFound:
                break
            if latest.fingerprint != d.fingerprint:
                break
        else:
            return None
    (result,) = executions.record(
        db,
        who,
        [
            ExecutionRecord(
                execution=NewExecution(
                    kind="other",
                    name="features apply",
                    state="complete",
                    properties={"repo": repo} if repo else {},
                    ended_at=datetime.now(UTC),
                ),
                inputs=[ArtifactRef(new=_new(d), role="source") for d in sources],
                outputs=[ArtifactRef(new=_new(d), role="feature_view") for d in views],
            )
        ],
    )
    return result.execution


def views(db: Database, who: Principal, svc: FeatureBackends) -> list[online.ViewSpec]:
    """The project's feature views, as of the last apply (in any process)."""
    who.require("read")
    return list(svc.snapshot(svc.store(db, who)).views.values())


def _view_artifacts(db: Database, who: Principal, views: Sequence[str]) -> list[Artifact]:
    """The current artifact of each view and of its sources (their latest versions)."""
    found: list[Artifact] = []
    with db.read() as session:
        for name in views:
            try:
                view = artifacts.get_by_name(session, who.project_id, name, None)
            except NotFound:
                continue  # applied before lineage was recorded: nothing to link
            found.append(view)
            source = view.properties.get("source")
            if not source:
                continue
            with contextlib.suppress(NotFound):
                data = artifacts.get_by_name(session, who.project_id, f"source:{source}", None)
                found.append(data)
                # The data at the source's location as others report it (an OpenLineage job
                # that wrote the file, a run that logged it): its newest version is what this
                # read, so the lineage reaches the job that made it.
                at = external_ids.find(
                    session, who.project_id, "location", "dataset", data.uri or ""
                )
                if at is not None:
                    series = artifacts.get(session, who.project_id, at).name
                    newest = artifacts.get_by_name(session, who.project_id, series, None)
                    if newest.id != data.id:
                        found.append(newest)
    return found


def materialize(
    db: Database,
    who: Principal,
    svc: FeatureBackends,
    *,
    start: datetime | None,
    end: datetime,
    views: Sequence[str] | None = None,
) -> Execution:
    """Run Feast's materialization (from `start`, or incrementally from where the last one
    stopped) and record it as an execution reading the views and their sources."""
    who.require("write")
    store = svc.store(db, who)
    known = svc.snapshot(store).views  # refreshes Feast's registry after an apply elsewhere
    online_views = [v.name for v in store.list_feature_views() if v.online]
    names = list(views) if views else online_views
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise NotFound(
            f"unknown feature views: {', '.join(unknown)}",
            details={"unknown": unknown, "known": sorted(known)},
        )
    if not names:
        raise InvalidArgument("no online feature views to materialize; apply definitions first")
    if start is not None and start >= end:
        raise InvalidArgument("start must be before end")
    started = datetime.now(UTC)
    materialization.materialize(store, names, start=start, end=end)
    inputs = [ArtifactRef(id=a.id, role="feature_view") for a in _view_artifacts(db, who, names)]
    (result,) = executions.record(
        db,
        who,
        [
            ExecutionRecord(
                execution=NewExecution(
                    kind="materialization",
                    name="features materialize",
                    state="complete",
                    params={
                        "start": start.isoformat() if start else "incremental",
                        "end": end.isoformat(),
                        "feature_views": names,
                    },
                    started_at=started,
                    ended_at=datetime.now(UTC),
                ),
                inputs=inputs,
            )
        ],
    )
    return result.execution


def get_online(
    db: Database,
    who: Principal,
    svc: FeatureBackends,
    *,
    features: Sequence[str] | None,
    feature_service: str | None,
    entities: dict[str, list[Any]],
) -> online.OnlineResult:
    who.require("read")
    store = svc.store(db, who)
    backend = svc.reader
    # A backend that reads the definitions' generation with the values (Redis: the same round
    # trip) reads from the cached snapshot and again from a new one only when an apply moved
    # it; any other checks the generation first (one `stat`).
    snap = (svc.snapshots.peek(store.project) if backend.reads_generation else None) or (
        svc.snapshot(store)
    )
    try:
        refs = online.resolve(snap, features, feature_service)
    except NotFound:
        if not backend.reads_generation:
            raise
        snap = svc.snapshot(store)
        refs = online.resolve(snap, features, feature_service)
    result, seen = backend.read(store, snap, refs, entities, max_entities=svc.max_entities)
    if backend.reads_generation and seen != snap.generation:
        snap = svc.snapshots.get(store, seen)
        refs = online.resolve(snap, features, feature_service)
        result, _ = backend.read(store, snap, refs, entities, max_entities=svc.max_entities)
    if svc.served is not None:
        svc.served.offer(who.project_name, snap, result)
    return result


@dataclass(frozen=True, slots=True)
class TrainingSet:
    artifact: Artifact
    execution_id: int
    rows: int
    columns: list[str]
    path: Path


def get_historical(
    db: Database,
    who: Principal,
    svc: FeatureBackends,
    *,
    entity_rows: dict[str, list[Any]],
    features: Sequence[str] | None,
    feature_service: str | None,
    name: str,
    full_feature_names: bool = False,
) -> TrainingSet:
    """A point-in-time correct training set, written as Parquet and recorded as a dataset
    artifact produced from the feature views (and, through them, their source files)."""
    who.require("write")
    store = svc.store(db, who)
    snap = svc.snapshot(store)
    refs = online.resolve(snap, features, feature_service)
    needed = {k for view, _ in refs for k in snap.views[view].join_keys}
    missing = sorted(needed - set(entity_rows))
    if missing:
        raise InvalidArgument(
            f"entity_rows lacks the join keys {', '.join(missing)}", details={"missing": missing}
        )
    svc.datasets.mkdir(parents=True, exist_ok=True)
    path = svc.datasets / f"{uuid.uuid4().hex}.parquet"
    written = offline.training_file(
        store, entity_rows, refs, full_feature_names=full_feature_names, out=path
    )
    # The client's definition (client/fingerprint.py), so `run.use_dataset(<this file>)` finds
    # this artifact and the model's lineage reaches the views and their source files.
    content = fingerprint.of(path)
    views = sorted({v for v, _ in refs})
    (result,) = executions.record(
        db,
        who,
        [
            ExecutionRecord(
                execution=NewExecution(
                    kind="other",
                    name="features historical",
                    state="complete",
                    params={
                        "features": [f"{v}:{f}" for v, f in refs],
                        "feature_service": feature_service,
                    },
                    ended_at=datetime.now(UTC),
                ),
                inputs=[ArtifactRef(id=a.id, role=a.kind) for a in _view_artifacts(db, who, views)],
                outputs=[
                    ArtifactRef(
                        new=NewArtifact(
                            kind="dataset",
                            name=name,
                            uri=content.uri,
                            fingerprint=content.fingerprint,
                            properties={
                                "format": "parquet",
                                "num_rows": written.rows,
                                "columns": written.columns,
                            },
                        ),
                        role="training_set",
                    )
                ],
            )
        ],
    )
    artifact = result.outputs[0][0]
    return TrainingSet(artifact, result.execution.id, written.rows, written.columns, path)


def training_set_file(db: Database, who: Principal, svc: FeatureBackends, artifact_id: int) -> Path:
    """The Parquet file of a training set this server built (`get_historical`).

    Raises:
        NotFound: no such artifact, or not a training set stored here (nothing else is served:
            the id cannot reach another file).
    """
    who.require("read")
    with db.read() as session:
        artifact = artifacts.get(session, who.project_id, artifact_id)
    root = svc.datasets.resolve()
    uri = artifact.uri or ""
    path = root / uri.rsplit("/", 1)[-1]
    if artifact.kind != "dataset" or not uri.startswith(root.as_uri()) or not path.is_file():
        raise NotFound(
            f"artifact {artifact_id} is not a training set stored by this server",
            details={"artifact_id": artifact_id},
        )
    return path


def push(
    db: Database,
    who: Principal,
    svc: FeatureBackends,
    *,
    source: str,
    rows: dict[str, list[Any]],
) -> int:
    """Write fresh values to the online store through Feast's push (values typed by the view)."""
    who.require("write")
    return push_source.push(svc.store(db, who), source, rows)
