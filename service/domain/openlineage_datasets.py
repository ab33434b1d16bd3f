"""OpenLineage's datasets as artifact series: named by where their data lives (joining a
Feast source or a run's `use_dataset` at the same location, and a dataset's symlinks), each
run's output a new version, each input the version current at the reader's time.

A batch of events is mapped with a fixed number of statements, whatever its size: `Datasets`
reads every identity and every series the batch names at once, decides each input's and
output's version in memory (in arrival order, so a later event sees an earlier one's output),
then writes the new versions, the merged facets and the identities in bulk.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mlledger.store.metadata import artifacts, external_ids
from mlledger.store.metadata.artifacts import NewArtifact

from .principal import Principal

SYSTEM = "openlineage"
NAME = 256  # node names; a longer one is cut and suffixed with its digest
VERSIONS_COMPARED = 200  # versions of a dataset an input's binding looks through

Merge = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Dataset:
    namespace: str
    name: str
    facets: dict[str, Any] = field(default_factory=dict)
    io_facets: dict[str, Any] = field(default_factory=dict)  # inputFacets / outputFacets


@functools.lru_cache(maxsize=1 << 16)
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


@functools.lru_cache(maxsize=1 << 16)
def key_of(namespace: str, name: str) -> str:
    return json.dumps([namespace, name], ensure_ascii=False)


def column_key(namespace: str, name: str, field: str) -> str:
    """The prefix of the `column` identities of every version derived from this input field."""
    return json.dumps([namespace, name, field], ensure_ascii=False)[:-1] + ","


def fingerprint(d: Dataset, run_id: str | None) -> str:
    """What makes a written version the same one again: the dataset's own version facet, else
    the run that wrote it (its START and COMPLETE name one version)."""
    tag = obj(d.facets.get("version")).get("datasetVersion")
    made = f"openlineage-version:{tag}" if isinstance(tag, str) and tag else None
    return (made or f"openlineage-run:{run_id}")[:256]


def _aliases(d: Dataset) -> list[str]:
    """The dataset's identity keys: its own name and each symlink's."""
    keys = [key_of(d.namespace, d.name)]
    links = obj(d.facets.get("symlinks")).get("identifiers")
    for link in links if isinstance(links, list) else []:
        ns, name = obj(link).get("namespace"), obj(link).get("name")
        if isinstance(ns, str) and isinstance(name, str):
            keys.append(key_of(ns, name))
    return keys


def series_of(session: Session, who: Principal, d: Dataset) -> str:
    """The artifact series a dataset is: the one it was first mapped to, else the one that
    holds data at its location (a Feast source, a run's `use_dataset`), else its location."""
    where = location(d.namespace, d.name)
    node = external_ids.find(
        session, who.project_id, SYSTEM, "dataset", key_of(d.namespace, d.name)
    )
    if node is None:
        node = external_ids.find(session, who.project_id, "location", "dataset", where)
    if node is not None:
        return artifacts.get(session, who.project_id, node).name
    return node_name(where)


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


def _merge_facets(d: Dataset) -> Merge:
    def merge(props: dict[str, Any]) -> dict[str, Any]:
        meta = dict(obj(props.get(SYSTEM)))
        meta["facets"] = {**obj(meta.get("facets")), **d.facets}
        return {**props, SYSTEM: meta}

    return merge


def _merge_output(d: Dataset, when: datetime, run_id: str | None) -> Merge:
    """A later event naming the same written version: its facets join the earlier ones."""

    def merge(props: dict[str, Any]) -> dict[str, Any]:
        meta = dict(obj(props.get(SYSTEM)))
        meta["facets"] = {**obj(meta.get("facets")), **d.facets}
        if d.io_facets:
            meta["outputFacets"] = {**obj(meta.get("outputFacets")), **d.io_facets}
        fresh = _properties(d, when, "outputFacets", run_id)
        return {**props, **{k: v for k, v in fresh.items() if k != SYSTEM}, SYSTEM: meta}

    return merge


def _merge_into(ours: dict[str, Any]) -> Merge:
    """What this batch would have stored, merged into the same content stored meanwhile."""

    def merge(props: dict[str, Any]) -> dict[str, Any]:
        mine, theirs = obj(ours.get(SYSTEM)), dict(obj(props.get(SYSTEM)))
        theirs["facets"] = {**obj(theirs.get("facets")), **obj(mine.get("facets"))}
        return {**ours, **props, SYSTEM: {**mine, **theirs}}

    return merge


def _columns(d: Dataset) -> list[str]:
    """Prefixes of the `column` identities of a written version: one per input field its
    columns came from (ColumnLineage), so "what was made from orders.amount?" is one index
    range, not a scan of every facet."""
    fields = obj(obj(d.facets.get("columnLineage")).get("fields"))
    keys: list[str] = []
    for spec in fields.values():
        sources = obj(spec).get("inputFields")
        for source in sources if isinstance(sources, list) else []:
            ns, name, col = (obj(source).get(k) for k in ("namespace", "name", "field"))
            if isinstance(ns, str) and isinstance(name, str) and isinstance(col, str):
                keys.append(column_key(ns, name, col))
    return keys


@dataclass(slots=True)
class Version:
    """A version of a series as the batch sees it: stored (`id` known from the start) or new
    (`spec` set; its id is known after `Datasets.flush`)."""

    name: str
    event_time: datetime | None  # its writer's (or first reader's) event time
    written_by: str | None
    id: int | None = None
    spec: NewArtifact | None = None
    merges: list[Merge] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    @classmethod
    def stored(cls, a: Any) -> Version:
        meta = obj(a.properties.get(SYSTEM))
        written = meta.get("event_time")
        return cls(
            a.name,
            datetime.fromisoformat(written) if isinstance(written, str) else None,
            meta.get("written_by") if isinstance(meta.get("written_by"), str) else None,
            id=a.id,
        )

    @property
    def artifact_id(self) -> int:
        assert self.id is not None, "read after Datasets.flush"
        return self.id


class Datasets:
    """The datasets of one batch of events: `load` reads what the batch names, `read` and
    `write` choose versions in arrival order, `flush` writes everything they decided."""

    def __init__(self, who: Principal) -> None:
        self._who = who
        self._series: dict[str, str] = {}  # identity key -> series name
        self._at: dict[str, str] = {}  # location -> series name
        self._versions: dict[str, list[Version]] = {}  # newest first
        self._by_content: dict[tuple[str, str], Version] = {}
        self._claims: dict[str, Version] = {}  # identity key -> the first version it named
        self._new: list[Version] = []
        self._stored: dict[int, Version] = {}
        self.created: set[int] = set()  # ids of the versions `flush` made

    @classmethod
    def load(
        cls, session: Session, who: Principal, uses: Sequence[tuple[Dataset, str | None]]
    ) -> Datasets:
        """Read the identities and series of every dataset in `uses` (in arrival order, each
        with the fingerprint it is written with, or None when it is read)."""
        book = cls(who)
        project = who.project_id
        keys = [k for d, _ in uses for k in _aliases(d)]
        places = [location(d.namespace, d.name) for d, _ in uses]
        by_key = external_ids.find_many(session, project, SYSTEM, "dataset", keys)
        by_place = external_ids.find_many(session, project, "location", "dataset", places)
        named = artifacts.get_many(session, project, [*by_key.values(), *by_place.values()])
        book._series = {k: named[n].name for k, n in by_key.items() if n in named}
        book._at = {p: named[n].name for p, n in by_place.items() if n in named}
        # Which series each use is, in order: the first dataset at a place, or under a name,
        # decides for those after it (as `flush`'s identities will for later batches).
        for d, _ in uses:
            name = book._name(d)
            for k in _aliases(d):
                book._series.setdefault(k, name)
            book._at.setdefault(location(d.namespace, d.name), name)
        names = sorted({book._name(d) for d, _ in uses})
        newest = artifacts.newest_versions(session, project, names, VERSIONS_COMPARED)
        book._versions = {n: [book._known(a) for a in vs] for n, vs in newest.items()}
        written = [(book._name(d), fp) for d, fp in uses if fp is not None]
        for pair, a in artifacts.by_fingerprints(session, project, written).items():
            book._by_content[pair] = book._known(a)
        return book

    def _known(self, a: Any) -> Version:
        """The one Version of a stored artifact (merges into it gather in one place)."""
        if a.id not in self._stored:
            self._stored[a.id] = Version.stored(a)
        return self._stored[a.id]

    def _name(self, d: Dataset) -> str:
        where = location(d.namespace, d.name)
        found = self._series.get(key_of(d.namespace, d.name)) or self._at.get(where)
        return found or node_name(where)

    def _add(self, d: Dataset, version: Version, fp: str, props: dict[str, Any]) -> Version:
        version.spec = NewArtifact(
            kind="dataset",
            name=version.name,
            uri=location(d.namespace, d.name),
            fingerprint=fp,
            properties=props,
        )
        self._versions.setdefault(version.name, []).insert(0, version)
        self._by_content[(version.name, fp)] = version
        self._new.append(version)
        return version

    def _claim(self, d: Dataset, version: Version) -> None:
        for k in _aliases(d):
            self._claims.setdefault(k, version)

    def read(
        self, d: Dataset, when: datetime, *, run_id: str | None = None, facets: bool = False
    ) -> Version:
        """The version of `d` current at `when`: the newest written at or before it (by its
        writer's event time) by another run, else the oldest known, else a first version seen
        here. A run never reads its own output (its START may have named it already)."""
        name = self._name(d)
        versions = [
            v for v in self._versions.get(name, []) if run_id is None or v.written_by != run_id
        ]
        chosen = next(
            (v for v in versions if v.event_time is not None and v.event_time <= when), None
        )
        if chosen is None and versions:
            chosen = versions[-1]
        if chosen is None:
            seen = f"openlineage-seen:{hashlib.sha256(name.encode()).hexdigest()}"
            chosen = self._add(
                d, Version(name, when, None), seen, _properties(d, when, "inputFacets")
            )
        elif facets and d.facets:
            chosen.merges.append(_merge_facets(d))
        self._claim(d, chosen)
        return chosen

    def write(self, d: Dataset, run_id: str | None, when: datetime) -> Version:
        """The version this run wrote: one per run (its START and COMPLETE name the same one;
        the later event's facets are merged in), or per the dataset's own version facet."""
        name = self._name(d)
        fp = fingerprint(d, run_id)
        made = self._by_content.get((name, fp))
        if made is None:
            props = _properties(d, when, "outputFacets", run_id)
            made = self._add(d, Version(name, when, run_id), fp, props)
        else:
            made.merges.append(_merge_output(d, when, run_id))
        self._claim(d, made)
        made.columns.extend(_columns(d))
        return made

    def flush(self, session: Session) -> None:
        """Write the new versions, the merges into stored ones and the identities."""
        project = self._who.project_id
        specs = []
        for v in self._new:
            assert v.spec is not None
            props = v.spec.properties
            for merge in v.merges:
                props = merge(props)
            v.merges = []
            specs.append(NewArtifact(v.spec.kind, v.name, v.spec.uri, v.spec.fingerprint, props))
        made = artifacts.create_many(session, project, specs)
        for v, spec, (a, created) in zip(self._new, specs, made, strict=True):
            v.id = a.id
            if created:
                self.created.add(a.id)
            else:  # another writer stored the same content first: merge into it
                self._stored.setdefault(a.id, v).merges.append(_merge_into(spec.properties))
        changed = {i: v for i, v in self._stored.items() if v.merges}
        locked = artifacts.lock_many(session, project, list(changed))
        merged: dict[int, dict[str, Any]] = {}
        for i, a in locked.items():
            props = a.properties
            for merge in changed[i].merges:
                props = merge(props)
            merged[i] = props
        artifacts.set_properties_many(session, merged)
        claims = {k: v.artifact_id for k, v in self._claims.items()}
        external_ids.claim_many(session, project, SYSTEM, "dataset", claims)
        columns = {
            f"{prefix}{v.artifact_id}]": v.artifact_id
            for v in [*self._stored.values(), *self._new]
            for prefix in v.columns
        }
        if columns:
            external_ids.claim_many(session, project, SYSTEM, "column", columns)
