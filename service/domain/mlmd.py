"""MLMD's writes as mlledger's use cases: each RPC one transaction, under the graph's rules.

What TFX and Kubeflow Pipelines record through MLMD's gRPC API lands in the one lineage graph;
an execution may not read what it (transitively) wrote, whichever door it came through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


class TypeCache:
    """The types one unit of work needs, each read once: PutExecution's three kinds of node
    take one statement, not one a kind."""

    def __init__(self, session: Session, project_id: int) -> None:
        self.session = session
        self.project_id = project_id
        self.found: dict[int, MlmdType] = {}

    def load(self, ids: set[int]) -> None:
        missing = sorted(i for i in ids if i not in self.found)
        self.found.update(
            (t.id, t) for t in types.by_ids(self.session, self.project_id, None, missing) if t.id
        )

    def of(self, kind: TypeKind) -> Callable[[set[int]], dict[int, MlmdType]]:
        def load(ids: set[int]) -> dict[int, MlmdType]:
            self.load(ids)
            return {i: t for i in ids if (t := self.found.get(i)) is not None and t.kind == kind}

        return load


def put_nodes(
    session: Session,
    project_id: int,
    kind_types: KindTypes,
    kind: TypeKind,
    requested: Sequence[Node],
    mask: Sequence[str] = (),
    *,
    cache: TypeCache | None = None,
) -> list[int]:
    return nodes.put(
        session,
        project_id,
        kind,
        requested,
        (cache or TypeCache(session, project_id)).of(kind),
        kind_types,
        mask=mask,
    )


def put_events(
    session: Session,
    project_id: int,
    wanted: Sequence[MlmdEvent],
    *,
    skip_existing: bool = False,
    known: links.Known | None = None,
) -> None:
    edges = links.put_events(session, project_id, wanted, skip_existing=skip_existing, known=known)
    if edges:
        rules.refuse_cycles(
            session,
            {e.execution_id: f"execution {e.execution_id}" for e in edges},
            edges=edges,
            fresh_executions=known.fresh_executions if known else frozenset(),
            fresh_artifacts=known.fresh_artifacts if known else frozenset(),
        )


def _existing_context(
    session: Session, project_id: int, kind_types: KindTypes, context: Node
) -> int | None:
    type_id, name = context.type_id, context.name
    if type_id is None or not name:
        return None
    found = listing.find(
        session,
        project_id,
        "context",
        kind_types,
        lambda c: [c.of_type(type_id), c.attrs["name"] == name],
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
    cache = TypeCache(session, project_id)
    every = [*graph.executions, *graph.artifacts, *graph.contexts]
    cache.load({n.type_id for n in every if n.type_id is not None})
    execution_ids = put_nodes(
        session, project_id, kind_types, "execution", graph.executions, cache=cache
    )
    artifacts = list(graph.artifacts)
    if graph.reuse_artifacts_by_external_id:
        for i, a in enumerate(artifacts):
            if a.id is None and a.external_id:
                found = _existing_artifact(session, project_id, kind_types, a.external_id)
                if found is not None:
                    artifacts[i] = replace(a, id=found)
    artifact_ids = put_nodes(session, project_id, kind_types, "artifact", artifacts, cache=cache)
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
        present = nodes.exists_all(session, project_id, "context", [i for i in context_ids if i])
        unknown = sorted({i for i in context_ids if i} - present)
        if unknown:
            raise InvalidArgument(f"no contexts with ids {unknown} to reuse")
    written = put_nodes(
        session, project_id, kind_types, "context", [c for _, c in to_write], cache=cache
    )
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
    # The nodes put_nodes wrote are known to be in the project; those it made have no events.
    known = links.Known(
        artifacts=set(artifact_ids),
        executions=set(execution_ids),
        fresh_artifacts={i for n, i in zip(artifacts, artifact_ids, strict=True) if n.id is None},
        fresh_executions={
            i for n, i in zip(graph.executions, execution_ids, strict=True) if n.id is None
        },
    )
    put_events(session, project_id, events, skip_existing=True, known=known)
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
