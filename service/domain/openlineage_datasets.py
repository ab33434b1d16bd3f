"""OpenLineage's datasets as artifact series: named by where their data lives (joining a
Feast source or a run's `use_dataset` at the same location, and a dataset's symlinks), each
run's output a new version, each input the version current at the reader's time."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlledger.store.entities import Artifact
from mlledger.store.metadata import artifacts, external_ids
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.tables import ArtifactRow

from .principal import Principal

SYSTEM = "openlineage"
NAME = 256  # node names; a longer one is cut and suffixed with its digest
VERSIONS_COMPARED = 200  # versions of a dataset an input's binding looks through


@dataclass(frozen=True, slots=True)
class Dataset:
    namespace: str
    name: str
    facets: dict[str, Any] = field(default_factory=dict)
    io_facets: dict[str, Any] = field(default_factory=dict)  # inputFacets / outputFacets


def location(namespace: str, name: str) -> str:
    """Where a dataset's data lives, as a URI: OpenLineage's `file` + `/data/x.parquet` is
    `file:///data/x.parquet` (what a Feast FileSource or `use_dataset` on that file records),
    `s3://bucket` + `key` is `s3://bucket/key`; other namespaces prefix the name."""
    if namespace == "file" or namespace.startswith("file:"):
        return "file://" + "/" + name.lstrip("/")
    if "://" in namespace:
        return namespace.rstrip("/") + "/" + name.lstrip("/")
    return f"{namespace}/{name}"


def obj(value: Any) -> dict[str, Any]:
    """A facet's object, or {} (facets are whatever producers send)."""
    return value if isinstance(value, dict) else {}


def node_name(text: str) -> str:
    if len(text) <= NAME:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: NAME - 18]}~{digest}"


def key_of(namespace: str, name: str) -> str:
    return json.dumps([namespace, name], ensure_ascii=False)


def series_of(session: Session, who: Principal, d: Dataset) -> str:
    """The artifact series a dataset is: the one it was first mapped to, else the one that
    holds data at its location (a Feast source, a run's `use_dataset`), else its location."""
    key = key_of(d.namespace, d.name)
    where = location(d.namespace, d.name)
    node = external_ids.find(session, who.project_id, SYSTEM, "dataset", key)
    if node is None:
        node = external_ids.find(session, who.project_id, "location", "dataset", where)
    if node is not None:
        return artifacts.get(session, who.project_id, node).name
    return node_name(where)


def _versions(session: Session, who: Principal, name: str) -> list[Artifact]:
    rows = session.scalars(
        select(ArtifactRow)
        .where(ArtifactRow.project_id == who.project_id, ArtifactRow.name == name)
        .order_by(ArtifactRow.version.desc())
        .limit(VERSIONS_COMPARED)
    )
    return [artifacts.to_entity(r) for r in rows]


def _remember(session: Session, who: Principal, d: Dataset, artifact: Artifact) -> None:
    keys = {key_of(d.namespace, d.name): artifact.id}
    links = obj(d.facets.get("symlinks")).get("identifiers")
    for link in links if isinstance(links, list) else []:
        ns, name = obj(link).get("namespace"), obj(link).get("name")
        if isinstance(ns, str) and isinstance(name, str):
            keys[key_of(ns, name)] = artifact.id
    external_ids.claim_many(session, who.project_id, SYSTEM, "dataset", keys)


def _properties(d: Dataset, when: datetime, io: str, run_id: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "namespace": d.namespace,
        "name": d.name,
        "event_time": when.isoformat(),
        "facets": d.facets,
    }
    if run_id is not None:
        meta["written_by"] = run_id
    if d.io_facets:
        meta[io] = d.io_facets
    props: dict[str, Any] = {SYSTEM: meta}
    schema = d.facets.get("schema")
    if isinstance(schema, dict) and isinstance(schema.get("fields"), list):
        props["columns"] = {
            f["name"]: f.get("type")
            for f in schema["fields"]
            if isinstance(f, dict) and "name" in f
        }
    stats = d.io_facets.get("outputStatistics")
    if isinstance(stats, dict) and isinstance(stats.get("rowCount"), int):
        props["num_rows"] = stats["rowCount"]
    return props


def read_version(
    session: Session,
    who: Principal,
    d: Dataset,
    when: datetime,
    *,
    run_id: str | None = None,
    facets: bool = False,
) -> Artifact:
    """The version of `d` current at `when`: the newest written at or before it (by its
    writer's event time) by another run, else the oldest known, else a first version seen
    here. A run never reads its own output (its START may have named it already)."""
    name = series_of(session, who, d)
    versions = [
        v
        for v in _versions(session, who, name)
        if run_id is None or v.properties.get(SYSTEM, {}).get("written_by") != run_id
    ]
    chosen = None
    for v in versions:
        written = v.properties.get(SYSTEM, {}).get("event_time")
        if written is not None and datetime.fromisoformat(written) <= when:
            chosen = v
            break
    if chosen is None and versions:
        chosen = versions[-1]
    if chosen is None:
        ((chosen, _),) = artifacts.create_many(
            session,
            who.project_id,
            [
                NewArtifact(
                    kind="dataset",
                    name=name,
                    uri=location(d.namespace, d.name),
                    fingerprint=f"openlineage-seen:{hashlib.sha256(name.encode()).hexdigest()}",
                    properties=_properties(d, when, "inputFacets"),
                )
            ],
        )
    elif facets and d.facets:
        meta = dict(chosen.properties.get(SYSTEM, {}))
        meta["facets"] = {**meta.get("facets", {}), **d.facets}
        chosen = artifacts.fill_in(
            session, who.project_id, chosen.id, properties={**chosen.properties, SYSTEM: meta}
        )
    _remember(session, who, d, chosen)
    return chosen


def written_version(
    session: Session, who: Principal, d: Dataset, run_id: str | None, when: datetime
) -> Artifact:
    """The version this run wrote: one per run (its START and COMPLETE name the same one; the
    later event's facets are merged in), or per the dataset's own version facet."""
    name = series_of(session, who, d)
    tag = obj(d.facets.get("version")).get("datasetVersion")
    fingerprint = (
        f"openlineage-version:{tag}"
        if isinstance(tag, str) and tag
        else f"openlineage-run:{run_id}"
    )
    ((made, created),) = artifacts.create_many(
        session,
        who.project_id,
        [
            NewArtifact(
                kind="dataset",
                name=name,
                uri=location(d.namespace, d.name),
                fingerprint=fingerprint[:256],
                properties=_properties(d, when, "outputFacets", run_id),
            )
        ],
    )
    if not created:
        meta = dict(made.properties.get(SYSTEM, {}))
        meta["facets"] = {**meta.get("facets", {}), **d.facets}
        if d.io_facets:
            meta["outputFacets"] = {**meta.get("outputFacets", {}), **d.io_facets}
        fresh = _properties(d, when, "outputFacets", run_id)
        props = {**made.properties, **{k: v for k, v in fresh.items() if k != SYSTEM}}
        made = artifacts.fill_in(
            session, who.project_id, made.id, properties={**props, SYSTEM: meta}
        )
    _remember(session, who, d, made)
    _derive_columns(session, who, d, made)
    return made


def column_key(namespace: str, name: str, field: str) -> str:
    """The prefix of the `column` identities of every version derived from this input field."""
    return json.dumps([namespace, name, field], ensure_ascii=False)[:-1] + ","


def _derive_columns(session: Session, who: Principal, d: Dataset, made: Artifact) -> None:
    """Index the version by each input field its columns came from (ColumnLineage), so
    "what was made from orders.amount?" is one index range, not a scan of every facet."""
    fields = obj(obj(d.facets.get("columnLineage")).get("fields"))
    keys: dict[str, int] = {}
    for spec in fields.values():
        sources = obj(spec).get("inputFields")
        for source in sources if isinstance(sources, list) else []:
            ns, name, field = (obj(source).get(k) for k in ("namespace", "name", "field"))
            if isinstance(ns, str) and isinstance(name, str) and isinstance(field, str):
                keys[column_key(ns, name, field) + f"{made.id}]"] = made.id
    if keys:
        external_ids.claim_many(session, who.project_id, SYSTEM, "column", keys)
