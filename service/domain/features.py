"""Feature use cases: apply definitions, materialize, serve online, build training sets, push —
each recorded in the lineage graph so a model traces back through its training set to the
feature views and their source files."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from feast import FeatureStore
from feast.data_source import PushMode
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mlledger.client import fingerprint
from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Execution
from mlledger.store.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from mlledger.store.features import definitions, offline, online
from mlledger.store.features.engine import Engines, applying
from mlledger.store.features.generation import Generations
from mlledger.store.features.served import ServedLog
from mlledger.store.metadata import artifacts, projects
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.executions import NewExecution
from mlledger.validation.reading import DataError, DataRoots

from . import executions
from .executions import ArtifactRef, ExecutionRecord
from .principal import Principal


@dataclass
class FeatureService:
    """What the feature use cases need, built once by the composition root."""

    engines: Engines
    snapshots: online.Snapshots
    generations: Generations
    reader: online.OnlineStore  # the backend of online reads (store/features/online/)
    redis: Any | None  # the Redis (or RedisCluster) client, when there is one
    datasets: Path
    data_roots: DataRoots  # where feature sources may point (features.data_roots)
    max_entities: int
    served: ServedLog | None = None  # sampled served vectors, for the skew check
    _feast_names: dict[int, str] = field(default_factory=dict)
    _applying: threading.Lock = field(default_factory=threading.Lock)

    def store(self, db: Database, who: Principal) -> FeatureStore:
        """The project's Feast store; its Feast name is read once per process (it never
        changes once recorded), so the online path pays no database round trip for it."""
        name = self._feast_names.get(who.project_id)
        if name is None:
            with db.write() as session:
                name = projects.feast_project(session, who.project_id)
            self._feast_names[who.project_id] = name
        return self.engines.get(name)

    def snapshot(self, store: FeatureStore, *, refresh: bool = False) -> online.Snapshot:
        """The registry snapshot at the current generation: after an apply in any process,
        the next request here reads the new definitions."""
        generation = self.generations.current(store.project)
        return self.snapshots.get(store, generation, refresh=refresh)


def _new(d: definitions.Described) -> NewArtifact:
    return NewArtifact(
        kind=d.kind, name=d.name, uri=d.uri, fingerprint=d.fingerprint, properties=d.properties
    )


def apply(
    db: Database, who: Principal, svc: FeatureService, registry: dict[str, Any], source: str | None
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


def views(db: Database, who: Principal, svc: FeatureService) -> list[online.ViewSpec]:
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
            if source:
                with contextlib.suppress(NotFound):
                    found.append(
                        artifacts.get_by_name(session, who.project_id, f"source:{source}", None)
                    )
    return found


def materialize(
    db: Database,
    who: Principal,
    svc: FeatureService,
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
    try:
        if start is None:
            store.materialize_incremental(end_date=end, feature_views=names)
        else:
            store.materialize(start_date=start, end_date=end, feature_views=names)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise Unavailable(f"the online store is unreachable: {exc}") from exc
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        # The sources' files: missing, unreadable, or not what the view declares.
        text = (str(exc).strip().splitlines() or [""])[0][:500]
        raise FailedPrecondition(
            f"materialization failed reading the sources: {type(exc).__name__}: {text}",
            details={"feature_views": names},
        ) from exc
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
    svc: FeatureService,
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
    svc: FeatureService,
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
    lengths = {len(v) for v in entity_rows.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise InvalidArgument("entity_rows needs columns of one same, non-zero length")
    needed = {k for view, _ in refs for k in snap.views[view].join_keys}
    missing = sorted(needed - set(entity_rows))
    if missing:
        raise InvalidArgument(
            f"entity_rows lacks the join keys {', '.join(missing)}", details={"missing": missing}
        )
    svc.datasets.mkdir(parents=True, exist_ok=True)
    path = svc.datasets / f"{uuid.uuid4().hex}.parquet"
    schema = offline.historical(
        store,
        pd.DataFrame(entity_rows),
        refs,
        full_feature_names=full_feature_names,
        out=path,
    )
    rows = pq.read_metadata(path).num_rows
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
                                "num_rows": rows,
                                "columns": schema.names,
                            },
                        ),
                        role="training_set",
                    )
                ],
            )
        ],
    )
    artifact = result.outputs[0][0]
    return TrainingSet(artifact, result.execution.id, rows, schema.names, path)


def push(
    db: Database,
    who: Principal,
    svc: FeatureService,
    *,
    push_source: str,
    rows: dict[str, list[Any]],
) -> int:
    """Write fresh values to the online store through Feast's push (values typed by the view)."""
    who.require("write")
    store = svc.store(db, who)
    lengths = {len(v) for v in rows.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise InvalidArgument("rows needs columns of one same, non-zero length")
    try:
        store.get_data_source(push_source)
    except Exception as exc:
        raise NotFound(
            f"push source {push_source!r} does not exist", details={"push_source": push_source}
        ) from exc
    frame = pd.DataFrame(rows)
    for column in ("event_timestamp", "created"):
        if column in frame.columns:
            try:
                frame[column] = pd.to_datetime(frame[column], utc=True)
            except (ValueError, TypeError) as exc:
                raise InvalidArgument(f"{column}: {exc}") from exc
    try:
        store.push(push_source, frame, to=PushMode.ONLINE)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(f"push to {push_source!r} failed: {exc}") from exc
    return len(frame)
