"""Feature definitions as they arrive over HTTP: Feast's Registry proto in JSON, read into
Feast objects (only the kinds that carry no code), applied with Feast's own declarative apply
(objects no longer sent are removed from the registry), and described for the lineage graph.
The Python files of a repo are imported by the caller (`mlledger features apply`), never here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feast import Entity, FeatureService, FeatureStore, FeatureView
from feast.data_source import DataSource
from feast.protos.feast.core.DataSource_pb2 import DataSource as DataSourceProto
from feast.protos.feast.core.Registry_pb2 import Registry as RegistryProto
from feast.repo_contents import RepoContents
from feast.repo_operations import apply_total_with_repo_instance
from google.protobuf import json_format

from ..errors import InvalidArgument, MlledgerError

# The kinds of object a caller may send, and the source types this server can read. Anything
# else is refused by name, never dropped: on-demand and stream views, and transformations,
# carry pickled Python (Feast unpickles it with dill), a custom source names a class to import,
# and feature logging writes files — the server runs no code and writes nothing it is sent.
ACCEPTED = ("entities", "data_sources", "feature_views", "feature_services")
SOURCE_TYPES = {
    DataSourceProto.SourceType.BATCH_FILE: "file",
    DataSourceProto.SourceType.PUSH_SOURCE: "push",
}
NAME_LIMIT = 256
MAX_OBJECTS = 10_000


def read(registry: dict[str, Any], project: str) -> RepoContents:
    """Feast objects from a Registry proto in JSON (what `mlledger features apply` sends),
    each placed in `project` whatever it says.

    Raises:
        InvalidArgument: not a Registry, a kind of object or source this server does not
            accept, or a definition Feast cannot read; the message names which.
    """
    proto = RegistryProto()
    try:
        json_format.ParseDict(registry, proto)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise InvalidArgument(f"registry: not Feast's Registry in JSON: {exc}"[:1000]) from exc
    refused = [f.name for f, _ in proto.ListFields() if f.name not in ACCEPTED]
    if refused:
        raise InvalidArgument(
            f"registry: {', '.join(refused)} are not accepted over HTTP (they carry code or "
            "state the server does not take from a caller); send entities, data_sources, "
            "feature_views and feature_services",
            details={"refused": refused},
        )
    total = sum(len(getattr(proto, kind)) for kind in ACCEPTED)
    if total > MAX_OBJECTS:
        raise InvalidArgument(f"registry: {total} objects; at most {MAX_OBJECTS}")
    for kind in ACCEPTED:
        for item in getattr(proto, kind):
            spec = item if kind == "data_sources" else item.spec
            _check_name(kind, spec.name, reference=kind != "data_sources")
            spec.project = project
    for source in proto.data_sources:
        _check_source(source, source.name)
    for view in proto.feature_views:
        spec = view.spec
        where = f"feature view {spec.name!r}"
        if spec.HasField("feature_transformation") or len(spec.source_views):
            raise InvalidArgument(f"{where}: transformations and views of views carry code")
        for column in (*spec.features, *spec.entity_columns):
            _check_name(f"{where} field", column.name)
        for entity in spec.entities:
            _check_name(f"{where} entity", entity)
        for inner in (spec.batch_source, spec.stream_source):
            if inner.ByteSize():
                inner.project = project
                _check_source(inner, where)
    for service in proto.feature_services:
        if service.spec.HasField("logging_config"):
            raise InvalidArgument(
                f"feature service {service.spec.name!r}: logging_config writes files; "
                "the server logs served vectors itself (features.served_sample_rate)"
            )
    try:
        return RepoContents(
            projects=[],
            data_sources=[DataSource.from_proto(d) for d in proto.data_sources],
            feature_views=[FeatureView.from_proto(v) for v in proto.feature_views],
            on_demand_feature_views=[],
            stream_feature_views=[],
            label_views=[],
            entities=[Entity.from_proto(e) for e in proto.entities],
            feature_services=[FeatureService.from_proto(f) for f in proto.feature_services],
            permissions=[],
        )
    except Exception as exc:  # Feast's own reading of a definition: any error is the caller's
        text = (str(exc).strip().splitlines() or [""])[0][:500]
        raise InvalidArgument(
            f"registry: Feast cannot read a definition: {type(exc).__name__}: {text}"
        ) from exc


def _check_name(kind: str, name: str, *, reference: bool = True) -> None:
    """Names become lineage artifact names, Redis field names and, for views and features,
    `view:feature` references; a source's name defaults to its path (Feast), so it may hold
    ':' and '/'."""
    banned = ":\r\n\t " if reference else "\r\n\t"
    if (
        not name
        or len(name) > NAME_LIMIT
        or any(c in name for c in banned)
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        rule = "without ':', whitespace or" if reference else "without line breaks, tabs or"
        raise InvalidArgument(
            f"{kind}: name {name[:100]!r} must be 1-{NAME_LIMIT} characters {rule} "
            "control characters",
            details={"name": name[:NAME_LIMIT]},
        )


def _check_source(source: DataSourceProto, where: str) -> None:
    if source.type not in SOURCE_TYPES:
        kind = (
            DataSourceProto.SourceType.Name(source.type)
            if source.type in (DataSourceProto.SourceType.values())
            else str(source.type)
        )
        raise InvalidArgument(
            f"{where}: a {kind} source; this server reads file and push sources only",
            details={"source_type": kind},
        )
    if source.type == DataSourceProto.SourceType.BATCH_FILE:
        if not source.file_options.uri:
            raise InvalidArgument(f"{where}: a file source without a path")
        if source.file_options.s3_endpoint_override:
            raise InvalidArgument(
                f"{where}: s3_endpoint_override is not accepted (the server would connect "
                "wherever it names); configure the endpoint on the server"
            )
    else:
        if not source.batch_source.ByteSize():
            raise InvalidArgument(f"{where}: a push source needs a file batch_source")
        if source.batch_source.type != DataSourceProto.SourceType.BATCH_FILE:
            raise InvalidArgument(f"{where}: a push source's batch_source must be a file source")
        _check_source(source.batch_source, where)


def file_paths(contents: RepoContents) -> list[tuple[str, str]]:
    """(where, path) of every file a definition would make the server read."""
    found: list[tuple[str, str]] = []
    for source in contents.data_sources:
        for inner in (source, getattr(source, "batch_source", None)):
            path = getattr(inner, "path", None)
            if path:
                found.append((f"data source {source.name!r}", path))
    for view in contents.feature_views:
        for inner in sources_of(view):
            for candidate in (inner, getattr(inner, "batch_source", None)):
                path = getattr(candidate, "path", None)
                if path:
                    found.append((f"feature view {view.name!r}", path))
    return found


def apply(store: FeatureStore, contents: RepoContents) -> None:
    """Register the definitions with Feast's declarative apply: what is not in `contents` is
    removed from the project's registry.

    Raises:
        InvalidArgument: Feast refuses the definitions (the message says which and why: the
            caller's mistake, not the server's).
    """
    try:
        apply_total_with_repo_instance(
            store, store.project, store.registry, contents, skip_source_validation=False
        )
    except MlledgerError:
        raise
    except Exception as exc:  # Feast's own validation: any exception type
        text = (str(exc).strip().splitlines() or [""])[0][:1000]
        raise InvalidArgument(
            f"the feature definitions could not be applied: {type(exc).__name__}: {text}",
            details={"error": type(exc).__name__},
        ) from exc
    store.refresh_registry()


@dataclass(frozen=True, slots=True)
class Described:
    """What the lineage graph records of a Feast object."""

    kind: str  # feature_view | dataset (a source)
    name: str
    uri: str | None
    fingerprint: str
    properties: dict[str, Any] = field(default_factory=dict)


def _digest(message: Any) -> str:
    """Hash of the definition alone: Feast stamps `meta` (created/updated times) into every
    proto it builds, so those are cleared first — the same definition hashes the same."""
    copy = type(message)()
    copy.CopyFrom(message)
    _clear_meta(copy)
    return "sha256:" + hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def _clear_meta(message: Any) -> None:
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.name == "meta":
            message.ClearField("meta")
        elif descriptor.is_repeated:
            if not descriptor.message_type.GetOptions().map_entry:
                for item in value:
                    _clear_meta(item)
        else:
            _clear_meta(value)


def source_name(source: Any) -> str:
    return f"source:{source.name}"


def describe_source(source: Any) -> Described:
    path = getattr(source, "path", None)
    uri = None
    if path:
        uri = path if "://" in path else Path(path).as_uri()
    return Described(
        kind="dataset",
        name=source_name(source),
        uri=uri,
        fingerprint=_digest(source.to_proto()),
        properties={
            "feast_source": type(source).__name__,
            "timestamp_field": getattr(source, "timestamp_field", None),
        },
    )


def describe_view(view: FeatureView) -> Described:
    spec = view.to_proto().spec
    return Described(
        kind="feature_view",
        name=view.name,
        uri=None,
        fingerprint=_digest(spec),
        properties={
            "entities": list(view.entities),
            "features": {f.name: str(f.dtype) for f in view.features},
            "ttl_seconds": int(view.ttl.total_seconds()) if view.ttl else 0,
            "online": view.online,
            "source": view.batch_source.name if view.batch_source else None,
            "tags": dict(view.tags),
        },
    )


def sources_of(view: FeatureView) -> list[Any]:
    found = []
    if view.stream_source is not None:
        found.append(view.stream_source)
    if view.batch_source is not None:
        found.append(view.batch_source)
    return found
