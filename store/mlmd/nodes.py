"""MLMD's artifacts, executions and contexts, as mlledger's nodes.

An MLMD artifact *is* an `artifact` row (an execution an `execution` row, a context a `context`
row, under the same id), so the REST API, GraphQL, search, impact analysis and the explorer see
what TFX records as ordinary lineage. What MLMD holds beyond mlledger's columns — the type, the
MLMD name, external id, state and the typed (custom) properties — sits beside it in `mlmd_node`.
Nodes mlledger's own clients made have no `mlmd_node` row and are read under the type named
after their kind (`dataset`, `run`, `pipeline`...), with their properties as custom properties.

Property values are kept as MLMD's Value in JSON, keyed by its field name (`{"int_value": 3}`),
so a filter's `properties.p.int_value` is a JSON path.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, case, cast, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm import outerjoin as orm_outerjoin
from sqlalchemy.sql import ColumnElement, Select

from ..errors import AlreadyExists, InvalidArgument, NotFound
from ..metadata import artifacts, bulk
from ..metadata.artifacts import NewArtifact
from ..tables.lineage import ArtifactRow, ContextRow, ExecutionRow
from ..tables.mlmd import MlmdNodeRow, MlmdTypeRow
from .types import MlmdType, TypeKind

LETTER: dict[TypeKind, str] = {"artifact": "a", "execution": "e", "context": "c"}
ROWS: dict[TypeKind, Any] = {
    "artifact": ArtifactRow,
    "execution": ExecutionRow,
    "context": ContextRow,
}
VALUE_FIELDS = (
    "int_value",
    "double_value",
    "string_value",
    "struct_value",
    "proto_value",
    "bool_value",
)
# PropertyType number -> the Value field that holds it.
VALUE_FIELD_OF = {
    1: "int_value",
    2: "double_value",
    3: "string_value",
    4: "struct_value",
    5: "proto_value",
    6: "bool_value",
}

# MLMD states <-> mlledger's. Artifact: UNKNOWN, PENDING, LIVE, MARKED_FOR_DELETION, DELETED,
# ABANDONED, REFERENCE; execution: UNKNOWN, NEW, RUNNING, COMPLETE, FAILED, CACHED, CANCELED.
ARTIFACT_STATE = {
    0: "live",
    1: "pending",
    2: "live",
    3: "deleted",
    4: "deleted",
    5: "deleted",
    6: "live",
}
EXECUTION_STATE = {
    0: "running",
    1: "running",
    2: "running",
    3: "complete",
    4: "failed",
    5: "cached",
    6: "failed",
}
NATIVE_STATE: dict[TypeKind, dict[str, int]] = {
    "artifact": {"pending": 1, "live": 2, "deleted": 4},
    "execution": {"running": 2, "complete": 3, "failed": 4, "cached": 5},
    "context": {},
}
TERMINAL = {3, 4, 5, 6}

# TFX's standard artifact types (and MLMD's system base types) -> mlledger's artifact kinds.
ARTIFACT_KIND_OF_TYPE = {
    "Examples": "dataset",
    "Dataset": "dataset",
    "Model": "model",
    "PushedModel": "model",
    "Schema": "schema",
    "ExampleStatistics": "statistics",
    "ExampleAnomalies": "anomalies",
    "ModelEvaluation": "evaluation",
    "ModelBlessing": "evaluation",
    "InfraBlessing": "evaluation",
}
ARTIFACT_KIND_OF_BASE = {1: "dataset", 2: "model", 3: "evaluation", 4: "statistics"}
EXECUTION_KIND_OF_TYPE = {
    "Trainer": "run",
    "Evaluator": "evaluation",
    "Pusher": "push",
    "ExampleValidator": "validation",
    "Tuner": "run",
}
CONTEXT_KINDS_BY_NAME = ("pipeline", "pipeline_run", "experiment")

MAX_NAME = 256
MAX_EXTERNAL_ID = 1024


@dataclass
class Node:
    """One MLMD node. `native` marks an mlledger node with no MLMD fields of its own."""

    kind: TypeKind
    id: int | None = None
    type_id: int | None = None
    type: str | None = None
    name: str | None = None
    uri: str | None = None
    external_id: str | None = None
    state: int | None = None
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_ms: int | None = None
    updated_ms: int | None = None
    native: bool = False


def now_ms() -> int:
    return int(time.time() * 1000)


def _ms(at: datetime | None) -> int | None:
    if at is None:
        return None
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() * 1000)


# ---- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """The SQL expressions of one node kind's MLMD fields, over one set of table aliases:
    what reads select and what filters compare. Shared between threads (see `columns`), so
    never changed once built."""

    kind: TypeKind
    base: Any
    node: Any
    type: Any
    attrs: dict[str, ColumnElement[Any]]
    kind_types: Mapping[tuple[str, str], int]

    def of_type(self, type_id: int) -> ColumnElement[bool]:
        """`attrs["type_id"] == type_id`, in a form the indexes serve: MLMD's nodes by their
        type column, mlledger's own (only for the types named after their kinds) by kind."""
        kinds = [k for (nk, k), v in self.kind_types.items() if nk == self.kind and v == type_id]
        mine: ColumnElement[bool] = self.node.type_id == type_id
        if not kinds:
            return mine
        return mine | (self.node.node_id.is_(None) & self.base.kind.in_(kinds))

    def joined(self, select_from: Any) -> Any:
        return orm_outerjoin(
            select_from,
            self.node,
            (self.node.node_type == LETTER[self.kind]) & (self.node.node_id == self.base.id),
        ).outerjoin(self.type, self.type.id == self.node.type_id)


def columns(kind: TypeKind, kind_types: Mapping[tuple[str, str], int], role: str = "") -> Columns:
    """Shared, not rebuilt: aliasing three tables and building the expressions costs ~4 ms of
    SQLAlchemy, more than the statement that uses them. Statements that range over one kind
    twice (a filter's subquery, its `contexts_a` joins) give each use its own `role`, and so
    their own aliases."""
    return _columns(kind, tuple(sorted(kind_types.items())), role)


@functools.lru_cache(maxsize=256)
def _columns(
    kind: TypeKind, kind_types: tuple[tuple[tuple[str, str], int], ...], role: str
) -> Columns:
    return _build_columns(kind, dict(kind_types))


def _build_columns(kind: TypeKind, kind_types: Mapping[tuple[str, str], int]) -> Columns:
    base = aliased(ROWS[kind])
    node = aliased(MlmdNodeRow)
    mtype = aliased(MlmdTypeRow)
    native = node.node_id.is_(None)
    ids = {k: v for (nk, k), v in kind_types.items() if nk == kind}
    type_id = func.coalesce(node.type_id, case(ids, value=base.kind, else_=None) if ids else None)
    if kind == "artifact":
        own_name: ColumnElement[Any] = base.name + literal(":") + cast(base.version, String)
    else:
        own_name = base.name
    attrs: dict[str, Any] = {
        "id": base.id,
        "type_id": type_id,
        "type": func.coalesce(mtype.name, base.kind),
        "name": case((native, own_name), else_=node.name),
        "external_id": node.external_id,
        "create_time_since_epoch": node.created_ms,
        "last_update_time_since_epoch": node.updated_ms,
    }
    states = NATIVE_STATE[kind]
    if kind == "artifact":
        attrs["uri"] = base.uri
        attrs["state"] = func.coalesce(node.state, case(states, value=base.state, else_=None))
    elif kind == "execution":
        attrs["last_known_state"] = func.coalesce(
            node.state, case(states, value=base.state, else_=None)
        )
    return Columns(kind=kind, base=base, node=node, type=mtype, attrs=attrs, kind_types=kind_types)


def base_query(cols: Columns, project_id: int) -> Select[Any]:
    b, n, t = cols.base, cols.node, cols.type
    return (
        select(b, n, t.name.label("type_name"), cols.attrs["type_id"].label("read_type_id"))
        .select_from(cols.joined(b))
        .where(b.project_id == project_id)
    )


def to_node(kind: TypeKind, row: Any) -> Node:
    base, mnode, type_name, type_id = row[0], row[1], row[2], row[3]
    if mnode is None:
        created = _ms(base.created_at)
        return Node(
            kind=kind,
            id=base.id,
            type_id=type_id,
            type=base.kind,
            name=f"{base.name}:{base.version}" if kind == "artifact" else base.name,
            uri=getattr(base, "uri", None),
            state=NATIVE_STATE[kind].get(getattr(base, "state", ""), None),
            custom_properties=typed_values(base.properties or {}),
            created_ms=created,
            updated_ms=_ms(getattr(base, "ended_at", None)) or created,
            native=True,
        )
    return Node(
        kind=kind,
        id=base.id,
        type_id=mnode.type_id,
        type=type_name,
        name=mnode.name,
        uri=getattr(base, "uri", None),
        external_id=mnode.external_id,
        state=mnode.state,
        properties=dict(mnode.properties),
        custom_properties=dict(mnode.custom_properties),
        created_ms=mnode.created_ms,
        updated_ms=mnode.updated_ms,
    )


def by_ids(
    session: Session,
    project_id: int,
    kind: TypeKind,
    ids: Iterable[int],
    kind_types: Mapping[tuple[str, str], int],
    *,
    lock: bool = False,
) -> dict[int, Node]:
    """`lock` takes the base rows' locks (Postgres), in id order, so that writers locking
    overlapping sets cannot deadlock."""
    wanted = sorted({i for i in ids if 0 < i < 2**63})
    if not wanted:
        return {}
    cols = columns(kind, kind_types)
    out: dict[int, Node] = {}
    for part in bulk.chunks(wanted):
        query = base_query(cols, project_id).where(cols.base.id.in_(part))
        if lock:
            query = (
                query.order_by(cols.base.id)
                .with_for_update(of=cols.base)
                .execution_options(populate_existing=True)
            )
        out.update((n.id, n) for n in (to_node(kind, r) for r in session.execute(query)))  # type: ignore[misc]
    return out


def run_query(session: Session, kind: TypeKind, query: Select[Any]) -> list[Node]:
    return [to_node(kind, r) for r in session.execute(query)]


# ---- values -----------------------------------------------------------------------------------


def typed_values(plain: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """mlledger's plain property values as MLMD Values."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in plain.items():
        if isinstance(value, bool):
            out[key] = {"bool_value": value}
        elif isinstance(value, int) and -(2**63) <= value < 2**63:
            out[key] = {"int_value": value}
        elif isinstance(value, float | int):
            out[key] = {"double_value": float(value)}
        elif isinstance(value, str):
            out[key] = {"string_value": value}
        elif isinstance(value, dict):
            out[key] = {"struct_value": value}
        elif value is not None:
            out[key] = {"string_value": json.dumps(value)}
    return out


def plain_values(*typed: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """MLMD Values as mlledger's plain properties (later maps win)."""
    out: dict[str, Any] = {}
    for values in typed:
        for key, value in values.items():
            ((name, held),) = value.items()
            if name == "double_value" and isinstance(held, str):
                held = float(held)
                held = None if not math.isfinite(held) else held
            out[key] = held
    return {k: v for k, v in out.items() if v is not None}


# ---- writing ----------------------------------------------------------------------------------


def artifact_kind(t: MlmdType) -> str:
    from ..kinds import ARTIFACT_KINDS

    if t.name in ARTIFACT_KINDS:
        return t.name
    return ARTIFACT_KIND_OF_TYPE.get(t.name) or ARTIFACT_KIND_OF_BASE.get(t.base_type or 0, "other")


def execution_kind(t: MlmdType) -> str:
    from ..kinds import EXECUTION_KINDS

    if t.name in EXECUTION_KINDS:
        return t.name
    return EXECUTION_KIND_OF_TYPE.get(re.split(r"[.:/]", t.name)[-1], "other")


def context_key(t: MlmdType, name: str) -> tuple[str, str]:
    """(kind, name) of the `context` row: TFX's `pipeline` and `pipeline_run` contexts are
    mlledger's; any other context type is a pipeline named after its type."""
    if t.name in CONTEXT_KINDS_BY_NAME and not t.version:
        return t.name, name
    label = f"{t.name}@{t.version}" if t.version else t.name
    return "pipeline", f"{label}/{name}"


def _check_values(node: Node, t: MlmdType) -> None:
    what = f"{node.kind} of type {t.name!r}"
    for key, value in node.properties.items():
        if key not in t.properties:
            raise InvalidArgument(f"{what}: Found unknown property: {key}")
        if len(value) != 1 or VALUE_FIELD_OF[t.properties[key]] not in value:
            raise InvalidArgument(f"{what}: Found unmatched property type: {key}")
    for key, value in node.custom_properties.items():
        if len(value) != 1:
            raise InvalidArgument(f"{what}: custom property {key!r} has no value")
    for label, text, limit in (
        ("name", node.name, MAX_NAME),
        ("external_id", node.external_id, MAX_EXTERNAL_ID),
    ):
        if text is not None and len(text) > limit:
            raise InvalidArgument(f"{what}: {label} is longer than {limit} characters")
    if node.kind == "context" and not node.name:
        raise InvalidArgument(f"{what}: a context needs a non-empty name")


def merge(stored: Node, request: Node, mask: Sequence[str]) -> Node:
    """The node after an update: the request in full (MLMD replaces a node it is sent), or
    only the fields `mask` names (`properties.x` one property; unknown paths are ignored)."""
    if request.type_id not in (None, stored.type_id):
        raise InvalidArgument(
            f"{stored.kind} {stored.id} has type_id {stored.type_id}, not {request.type_id}"
        )
    paths = [p for p in mask if p]
    if not paths:
        # Fields the request leaves unset keep their values; the property maps are replaced.
        return replace(
            request,
            type_id=stored.type_id,
            type=stored.type,
            name=request.name if request.name is not None else stored.name,
            uri=request.uri if request.uri is not None else stored.uri,
            external_id=request.external_id
            if request.external_id is not None
            else stored.external_id,
            state=request.state if request.state is not None else stored.state,
            created_ms=stored.created_ms,
            native=stored.native,
        )
    out = replace(
        stored, properties=dict(stored.properties), custom_properties=dict(stored.custom_properties)
    )
    for path in paths:
        head, _, key = path.partition(".")
        if head in ("properties", "custom_properties"):
            target, source = getattr(out, head), getattr(request, head)
            if not key:
                target.clear()
                target.update(source)
            elif key in source:
                target[key] = source[key]
            else:
                target.pop(key, None)
        elif head in ("name", "uri", "external_id"):
            setattr(out, head, getattr(request, head))
        elif head in ("state", "last_known_state"):
            out.state = request.state
    return out


def put(
    session: Session,
    project_id: int,
    kind: TypeKind,
    requested: Sequence[Node],
    load_types: Callable[[set[int]], Mapping[int, MlmdType]],
    kind_types: Mapping[tuple[str, str], int],
    *,
    mask: Sequence[str] = (),
) -> list[int]:
    """Create the nodes without ids and update those with; their ids, in request order.

    `load_types` gives the types of a set of type ids. Raises InvalidArgument
    (a malformed node, an id that is not there), NotFound (a type that is not), AlreadyExists
    (a name or external id taken within its type).
    """
    update_ids = [n.id for n in requested if n.id is not None]
    stored = by_ids(session, project_id, kind, update_ids, kind_types, lock=True)
    merged: list[Node] = []
    for node in requested:
        if node.id is not None:
            if node.id not in stored:
                raise InvalidArgument(f"no {kind} with id {node.id} to update")
            node = merge(stored[node.id], node, mask)
        if node.type_id is None:
            raise InvalidArgument(f"a new {kind} needs a type_id")
        merged.append(node)
    types = load_types({n.type_id for n in merged if n.type_id is not None})
    final: list[Node] = []
    for node in merged:
        t = types.get(node.type_id)  # type: ignore[arg-type]
        if t is None or t.kind != kind:
            raise NotFound(f"no {kind} type with id {node.type_id}")
        _check_values(node, t)
        final.append(replace(node, type=t.name))
    _refuse_repeats(kind, final)
    # A node sent back as it is (PutExecution names its inputs so) is not rewritten.
    changed = [n for n in final if n.id is not None and not _same(stored[n.id], n)]
    _refuse_taken(session, project_id, kind, changed)  # new nodes: by their insert
    now = now_ms()
    new = [n for n in final if n.id is None]
    made = _create(session, project_id, kind, new, types, now)
    made_ids = iter(made)
    _update(session, project_id, kind, changed, types, now)
    return [n.id if n.id is not None else next(made_ids) for n in final]


def _same(stored: Node, node: Node) -> bool:
    return (
        stored.name == node.name
        and stored.uri == node.uri
        and stored.external_id == node.external_id
        and stored.state == node.state
        and stored.properties == node.properties
        and stored.custom_properties == node.custom_properties
    )


def _keys(nodes: list[Node]) -> tuple[dict[Any, int | None], dict[Any, int | None]]:
    """MLMD's keys of `nodes` — a name once per type, an external id once per node kind — each
    with the node holding it."""
    names = {(n.type_id or 0, n.name): n.id for n in nodes if n.name}
    external = {n.external_id: n.id for n in nodes if n.external_id}
    return names, external


def _refuse_repeats(kind: TypeKind, nodes: list[Node]) -> None:
    """The same key twice in one request."""
    seen_names: dict[Any, int | None] = {}
    seen_external: dict[Any, int | None] = {}
    for n in nodes:
        if n.name:
            key = (n.type_id or 0, n.name)
            if key in seen_names and (n.id is None or seen_names[key] != n.id):
                raise AlreadyExists(f"{kind} name {n.name!r} is given twice for type {n.type!r}")
            seen_names[key] = n.id
        if n.external_id:
            if n.external_id in seen_external and (
                n.id is None or seen_external[n.external_id] != n.id
            ):
                raise AlreadyExists(f"{kind} external_id {n.external_id!r} is given twice")
            seen_external[n.external_id] = n.id


def _refuse_taken(session: Session, project_id: int, kind: TypeKind, nodes: list[Node]) -> None:
    """A key of `nodes` that another stored node holds."""
    if not nodes:
        return
    seen_names, seen_external = _keys(nodes)
    letter = LETTER[kind]
    part: Any
    for part in bulk.chunks(list(seen_names)):
        for type_id, name, node_id in session.execute(
            select(MlmdNodeRow.type_id, MlmdNodeRow.name, MlmdNodeRow.node_id).where(
                MlmdNodeRow.project_id == project_id,
                MlmdNodeRow.node_type == letter,
                # The type too, so that the unique index (project, kind, type, name) serves it.
                MlmdNodeRow.type_id.in_(sorted({p[0] for p in part})),
                MlmdNodeRow.name.in_(sorted({p[1] for p in part})),
            )
        ):
            if (type_id, name) in seen_names and seen_names[(type_id, name)] != node_id:
                raise AlreadyExists(
                    f"{kind} {node_id} already has the name {name!r} in its type",
                    details={"id": node_id, "name": name},
                )
    for part in bulk.chunks(list(seen_external)):
        for external_id, node_id in session.execute(
            select(MlmdNodeRow.external_id, MlmdNodeRow.node_id).where(
                MlmdNodeRow.project_id == project_id,
                MlmdNodeRow.node_type == letter,
                MlmdNodeRow.external_id.in_(sorted(part)),
            )
        ):
            if seen_external.get(external_id) != node_id:
                raise AlreadyExists(
                    f"{kind} {node_id} already has the external_id {external_id!r}",
                    details={"id": node_id, "external_id": external_id},
                )


NODE_ROWS = 500  # mlmd_node rows in one multi-row INSERT (10 parameters each)


def _node_row(kind: TypeKind, project_id: int, node_id: int, n: Node, now: int) -> dict[str, Any]:
    return {
        "node_type": LETTER[kind],
        "node_id": node_id,
        "project_id": project_id,
        "type_id": n.type_id,
        "name": n.name or None,
        "external_id": n.external_id or None,
        "state": n.state,
        "properties": n.properties,
        "custom_properties": n.custom_properties,
        "created_ms": n.created_ms or now,
        "updated_ms": now,
    }


def _context_rows_free(
    session: Session, project_id: int, keys: list[tuple[str, str]], owners: list[int | None]
) -> None:
    seen: dict[tuple[str, str], int | None] = {}
    for key, owner in zip(keys, owners, strict=True):
        if len(key[1]) > MAX_NAME:
            raise InvalidArgument(
                f"context {key[1][:80]!r}...: type and name together pass {MAX_NAME} characters"
            )
        if key in seen and (owner is None or seen[key] != owner):
            raise AlreadyExists(f"context name {key[1]!r} is given twice")
        seen[key] = owner
    for part in bulk.chunks(list(seen)):
        for kind, name, cid in session.execute(
            select(ContextRow.kind, ContextRow.name, ContextRow.id).where(
                ContextRow.project_id == project_id,
                ContextRow.name.in_(sorted({p[1] for p in part})),
            )
        ):
            if (kind, name) in seen and seen[(kind, name)] != cid:
                raise AlreadyExists(
                    f"a {kind} context named {name!r} exists already (id {cid})",
                    details={"id": cid, "kind": kind, "name": name},
                )


def _create(
    session: Session,
    project_id: int,
    kind: TypeKind,
    nodes: list[Node],
    types: Mapping[int, MlmdType],
    now: int,
) -> list[int]:
    if not nodes:
        return []
    at = datetime.fromtimestamp(now / 1000, UTC)
    if kind == "artifact":
        specs = []
        for n in nodes:
            t = types[n.type_id]  # type: ignore[index]
            series = f"{t.name}/{n.name}" if n.name else t.name
            if len(series) > MAX_NAME:
                raise InvalidArgument(
                    f"artifact of type {t.name!r}: type and name together pass {MAX_NAME} "
                    "characters"
                )
            specs.append(
                NewArtifact(
                    kind=artifact_kind(t),
                    name=series,
                    uri=n.uri or None,
                    properties=plain_values(n.custom_properties, n.properties),
                    state=ARTIFACT_STATE[n.state or 0],
                )
            )
        ids = [a.id for a, _ in artifacts.create_many(session, project_id, specs)]
    elif kind == "execution":
        rows = []
        for n in nodes:
            t = types[n.type_id]  # type: ignore[index]
            rows.append(
                {
                    "project_id": project_id,
                    "kind": execution_kind(t),
                    "name": (n.name or t.name)[:MAX_NAME],
                    "state": EXECUTION_STATE[n.state or 0],
                    "params": {},
                    "properties": plain_values(n.custom_properties, n.properties),
                    "code_version": None,
                    "environment": {},
                    "started_at": at,
                    "ended_at": at if (n.state or 0) in TERMINAL else None,
                    "created_at": at,
                }
            )
        ids = bulk.insert_rows(session, bulk.table_of(ExecutionRow), rows)
    else:
        keys = [context_key(types[n.type_id], n.name or "") for n in nodes]  # type: ignore[index]
        _context_rows_free(session, project_id, keys, [None] * len(keys))
        rows = [
            {
                "project_id": project_id,
                "kind": k,
                "name": name,
                "properties": plain_values(n.custom_properties, n.properties),
                "created_at": at,
                "deleted_at": None,
            }
            for (k, name), n in zip(keys, nodes, strict=True)
        ]
        ids = bulk.insert_rows(session, bulk.table_of(ContextRow), rows)
    # A name or external id another node holds is met by the unique indexes themselves: the
    # insert skips what conflicts (a concurrent writer's key included, once it commits), and
    # what it skipped is refused. No lookup ahead of every write.
    rows = [_node_row(kind, project_id, i, n, now) for i, n in zip(ids, nodes, strict=True)]
    written: set[int] = set()
    for part in bulk.chunks(rows, NODE_ROWS):
        statement = (
            bulk.dialect_insert(session)(MlmdNodeRow)
            .values(list(part))
            .on_conflict_do_nothing()
            .returning(MlmdNodeRow.node_id)
        )
        written.update(session.scalars(statement))
    if len(written) < len(rows):
        clashing = [n for i, n in zip(ids, nodes, strict=True) if i not in written]
        _refuse_taken(session, project_id, kind, [replace(n, id=None) for n in clashing])
        raise AlreadyExists(f"a {kind}'s name or external_id is taken")  # not seen: by a racer
    return ids


def _update(
    session: Session,
    project_id: int,
    kind: TypeKind,
    nodes: list[Node],
    types: Mapping[int, MlmdType],
    now: int,
) -> None:
    if not nodes:
        return
    at = datetime.fromtimestamp(now / 1000, UTC)
    base_rows: list[dict[str, Any]] = []
    for n in nodes:
        row: dict[str, Any] = {
            "id": n.id,
            "properties": plain_values(n.custom_properties, n.properties),
        }
        if kind == "artifact":
            row["uri"] = n.uri or None
            row["state"] = ARTIFACT_STATE[n.state or 0]
        elif kind == "execution":
            row["state"] = EXECUTION_STATE[n.state or 0]
            row["ended_at"] = at if (n.state or 0) in TERMINAL else None
        base_rows.append(row)
    if kind == "context":
        keys = [context_key(types[n.type_id], n.name or "") for n in nodes]  # type: ignore[index]
        _context_rows_free(session, project_id, keys, [n.id for n in nodes])
        for row, (_, name) in zip(base_rows, keys, strict=True):
            row["name"] = name
    bulk.update_rows(session, bulk.table_of(ROWS[kind]), base_rows)
    native = [n for n in nodes if n.native]
    if native:
        session.execute(
            insert(MlmdNodeRow),
            [_node_row(kind, project_id, n.id, n, now) for n in native],  # type: ignore[arg-type]
        )
    kept = ("project_id", "type_id", "created_ms")  # an update changes none of these
    ours = [
        {k: v for k, v in _node_row(kind, project_id, n.id, n, now).items() if k not in kept}  # type: ignore[arg-type]
        for n in nodes
        if not n.native
    ]
    if ours:  # by primary key, one executemany
        session.execute(update(MlmdNodeRow), ours)


def exists_all(session: Session, project_id: int, kind: TypeKind, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are nodes of this kind in the project."""
    wanted = sorted({i for i in ids if 0 < i < 2**63})
    table = ROWS[kind]
    found: set[int] = set()
    for part in bulk.chunks(wanted):
        found.update(
            session.scalars(
                select(table.id).where(table.project_id == project_id, table.id.in_(part))
            )
        )
    return found
