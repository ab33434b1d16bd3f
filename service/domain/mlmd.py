"""MLMD's writes as mlledger's use cases: each RPC one transaction, under the graph's rules.

What TFX and Kubeflow Pipelines record through MLMD's gRPC API lands in the one lineage graph;
an execution may not read what it (transitively) wrote, whichever door it came through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from mlledger.store.errors import AlreadyExists, InvalidArgument
from mlledger.store.mlmd import links, listing, nodes, types
from mlledger.store.mlmd.links import MlmdEvent
from mlledger.store.mlmd.nodes import Node
from mlledger.store.mlmd.types import MlmdType, TypeKind

from . import rules

KindTypes = Mapping[tuple[str, str], int]


@dataclass
class Graph:
    """What PutExecution and PutLineageSubgraph write together."""

    executions: list[Node] = field(default_factory=list)
    artifacts: list[Node] = field(default_factory=list)
    contexts: list[Node] = field(default_factory=list)
    # (execution index or None, artifact index or None, event)
    edges: list[tuple[int | None, int | None, MlmdEvent]] = field(default_factory=list)
    reuse_contexts: bool = False
    force_reuse_contexts: bool = False
    reuse_artifacts_by_external_id: bool = False


def type_loader(session: Session, project_id: int, kind: TypeKind):  # type: ignore[no-untyped-def]
    def load(ids: set[int]) -> dict[int, MlmdType]:
        return {t.id: t for t in types.by_ids(session, project_id, kind, sorted(ids)) if t.id}

    return load


def put_nodes(
    session: Session,
    project_id: int,
    kind_types: KindTypes,
    kind: TypeKind,
    requested: Sequence[Node],
    mask: Sequence[str] = (),
) -> list[int]:
    return nodes.put(
        session,
        project_id,
        kind,
        requested,
        type_loader(session, project_id, kind),
        kind_types,
        mask=mask,
    )


def put_events(
    session: Session, project_id: int, wanted: Sequence[MlmdEvent], *, skip_existing: bool = False
) -> None:
    edges = links.put_events(session, project_id, wanted, skip_existing=skip_existing)
    if edges:
        rules.refuse_cycles(
            session, {e.execution_id: f"execution {e.execution_id}" for e in edges}, edges=edges
        )


def _existing_context(
    session: Session, project_id: int, kind_types: KindTypes, context: Node
) -> int | None:
    if context.type_id is None or not context.name:
        return None
    found = listing.find(
        session,
        project_id,
        "context",
        kind_types,
        lambda c: [c.attrs["type_id"] == context.type_id, c.attrs["name"] == context.name],
        limit=1,
    )
    return found[0].id if found else None


def _existing_artifact(
    session: Session, project_id: int, kind_types: KindTypes, external_id: str
) -> int | None:
    found = listing.find(
        session,
        project_id,
        "artifact",
        kind_types,
        lambda c: [c.attrs["external_id"] == external_id],
        limit=1,
    )
    return found[0].id if found else None


def put_graph(
    session: Session, project_id: int, kind_types: KindTypes, graph: Graph
) -> tuple[list[int], list[int], list[int]]:
    """Executions, artifacts and contexts upserted, every execution associated with and every
    artifact attributed to every context, the events recorded: (execution, artifact, context)
    ids in request order."""
    execution_ids = put_nodes(session, project_id, kind_types, "execution", graph.executions)
    artifacts = list(graph.artifacts)
    if graph.reuse_artifacts_by_external_id:
        for i, a in enumerate(artifacts):
            if a.id is None and a.external_id:
                found = _existing_artifact(session, project_id, kind_types, a.external_id)
                if found is not None:
                    artifacts[i] = replace(a, id=found)
    artifact_ids = put_nodes(session, project_id, kind_types, "artifact", artifacts)
    context_ids: list[int | None] = [None] * len(graph.contexts)
    to_write: list[tuple[int, Node]] = []
    for i, c in enumerate(graph.contexts):
        if c.id is not None and graph.force_reuse_contexts:
            context_ids[i] = c.id
            continue
        if c.id is None:
            found = _existing_context(session, project_id, kind_types, c)
            if found is not None:
                if not graph.reuse_contexts:
                    raise AlreadyExists(
                        f"context {c.name!r} of type {c.type_id} exists (id {found}); pass "
                        "reuse_context_if_already_exist to use it"
                    )
                context_ids[i] = found
                continue
        to_write.append((i, c))
    if graph.force_reuse_contexts:
        known = nodes.exists_all(session, project_id, "context", [i for i in context_ids if i])
        unknown = sorted({i for i in context_ids if i} - known)
        if unknown:
            raise InvalidArgument(f"no contexts with ids {unknown} to reuse")
    written = put_nodes(session, project_id, kind_types, "context", [c for _, c in to_write])
    for (i, _), cid in zip(to_write, written, strict=True):
        context_ids[i] = cid
    final_contexts = [c for c in context_ids if c is not None]
    events: list[MlmdEvent] = []
    for exec_index, art_index, event in graph.edges:
        execution_id = _end(exec_index, execution_ids, event.execution_id, "execution")
        artifact_id = _end(art_index, artifact_ids, event.artifact_id, "artifact")
        events.append(replace(event, execution_id=execution_id, artifact_id=artifact_id))
    links.put_links(
        session,
        project_id,
        [(c, a) for c in final_contexts for a in artifact_ids],
        [(c, e) for c in final_contexts for e in execution_ids],
    )
    put_events(session, project_id, events, skip_existing=True)
    return execution_ids, artifact_ids, final_contexts


def _end(index: int | None, ids: list[int], given: int | None, what: str) -> int:
    if index is None:
        if given is None:
            raise InvalidArgument(f"an event needs its {what}: an index into the request or an id")
        return given
    if not 0 <= index < len(ids):
        raise InvalidArgument(f"event {what} index {index} is not in the request")
    if given is not None and given != ids[index]:
        raise InvalidArgument(
            f"an event names {what} {given} and index {index} ({what} {ids[index]})"
        )
    return ids[index]
