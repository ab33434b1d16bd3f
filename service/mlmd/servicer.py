"""MLMD 1.17's `MetadataStoreService`, all 52 RPCs, over mlledger's graph.

Each RPC is one unit of work: writes one transaction (service/domain/mlmd.py), reads one read
unit. A handler converts the request (convert.py), calls the store or the use case, and builds
the response; errors become status codes in one place (errors.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlledger.service.domain import mlmd as usecases
from mlledger.store.database import Database
from mlledger.store.errors import InvalidArgument
from mlledger.store.mlmd import graph, links, listing, nodes, types
from mlledger.store.mlmd.nodes import Columns, Node
from mlledger.store.mlmd.types import MlmdType, TypeKind
from mlledger.store.tables.lineage import AssociationRow, AttributionRow

from . import convert
from .errors import handled
from .proto import metadata_store_pb2 as pb
from .proto import metadata_store_service_pb2 as svc
from .proto import metadata_store_service_pb2_grpc as svc_grpc

log = logging.getLogger(__name__)

KINDS: tuple[TypeKind, ...] = ("artifact", "execution", "context")
PLURAL = {"artifact": "artifacts", "execution": "executions", "context": "contexts"}
MAX_IDS = 10_000


def _ids(values: Any, what: str, context: Any) -> list[Any]:
    ids = list(values)
    if len(ids) > MAX_IDS:
        with handled(context):
            raise InvalidArgument(f"at most {MAX_IDS} {what} in one request")
    return ids


def _types_rpc(
    kind: TypeKind, response: Any, which: Literal["all", "ids", "external_ids"]
) -> Callable[[Servicer, Any, Any], Any]:
    """A Get*Types handler: all of a kind's types, or those with the request's `type_ids` or
    `external_ids`, in the response's `<kind>_types`."""

    def handler(self: Servicer, request: Any, context: Any) -> Any:
        find: Callable[..., list[MlmdType]] = types.list_all
        given: list[Any] = []
        if which == "ids":
            find, given = types.by_ids, [_ids(request.type_ids, "type ids", context)]
        elif which == "external_ids":
            ext = _ids(request.external_ids, "external ids", context)
            find, given = types.by_external_ids, [ext]
        found = self._read(context, lambda s: find(s, self.project, kind, *given))
        return response(**{f"{kind}_types": [convert.type_out(t) for t in found]})

    return handler


class Servicer(svc_grpc.MetadataStoreServiceServicer):
    def __init__(
        self,
        database: Database,
        project_id: int,
        kind_types: Mapping[tuple[str, str], int],
        max_nodes: int,
    ) -> None:
        self.db = database
        self.project = project_id
        self.kind_types = kind_types
        self.max_nodes = max_nodes

    # ---- helpers ----------------------------------------------------------------------------

    def _write(self, context: Any, work: Callable[[Session], Any]) -> Any:
        with handled(context), self.db.write() as session:
            return work(session)

    def _read(self, context: Any, work: Callable[[Session], Any]) -> Any:
        with handled(context), self.db.read() as session:
            return work(session)

    def _type_id(self, session: Session, kind: TypeKind, name: str, version: str) -> int | None:
        found = types.find(session, self.project, kind, name, version or None)
        return found.id if found else None

    def _by_ids(self, session: Session, kind: TypeKind, ids: list[int]) -> list[Node]:
        found = nodes.by_ids(session, self.project, kind, ids, self.kind_types)
        return [found[i] for i in sorted(found)]

    def _page(
        self,
        session: Session,
        kind: TypeKind,
        request: Any,
        where: Callable[[Columns], list[Any]] | None = None,
    ) -> tuple[list[Any], str | None]:
        options = convert.list_options_in(request.options, request.HasField("options"))
        found, token = listing.list_nodes(
            session, self.project, kind, self.kind_types, options, where
        )
        return [convert.node_out(n) for n in found], token

    # ---- types ------------------------------------------------------------------------------

    def _put_type(self, kind: TypeKind, field: str, request: Any, context: Any) -> Any:
        if request.can_delete_fields:
            raise_invalid = InvalidArgument(
                "can_delete_fields is not supported (MLMD has it neither)"
            )
            with handled(context):
                raise raise_invalid
        wanted = convert.type_in(kind, getattr(request, field))
        type_id = self._write(
            context,
            lambda s: types.put(
                s,
                self.project,
                wanted,
                can_add_fields=request.can_add_fields,
                can_omit_fields=request.can_omit_fields,
            ),
        )
        return type_id

    def PutArtifactType(self, request: Any, context: Any) -> Any:
        return svc.PutArtifactTypeResponse(
            type_id=self._put_type("artifact", "artifact_type", request, context)
        )

    def PutExecutionType(self, request: Any, context: Any) -> Any:
        return svc.PutExecutionTypeResponse(
            type_id=self._put_type("execution", "execution_type", request, context)
        )

    def PutContextType(self, request: Any, context: Any) -> Any:
        return svc.PutContextTypeResponse(
            type_id=self._put_type("context", "context_type", request, context)
        )

    def PutTypes(self, request: Any, context: Any) -> Any:
        def work(session: Session) -> Any:
            out = svc.PutTypesResponse()
            for kind, field in (
                ("artifact", "artifact_types"),
                ("execution", "execution_types"),
                ("context", "context_types"),
            ):
                for message in getattr(request, field):
                    type_id = types.put(
                        session,
                        self.project,
                        convert.type_in(kind, message),  # type: ignore[arg-type]
                        can_add_fields=request.can_add_fields,
                        can_omit_fields=request.can_omit_fields,
                    )
                    getattr(out, f"{kind}_type_ids").append(type_id)
            return out

        return self._write(context, work)

    def _get_type(self, kind: TypeKind, request: Any, context: Any) -> Any:
        return self._read(
            context,
            lambda s: convert.type_out(
                types.get(s, self.project, kind, request.type_name, request.type_version or None)
            ),
        )

    def GetArtifactType(self, request: Any, context: Any) -> Any:
        return svc.GetArtifactTypeResponse(
            artifact_type=self._get_type("artifact", request, context)
        )

    def GetExecutionType(self, request: Any, context: Any) -> Any:
        return svc.GetExecutionTypeResponse(
            execution_type=self._get_type("execution", request, context)
        )

    def GetContextType(self, request: Any, context: Any) -> Any:
        return svc.GetContextTypeResponse(context_type=self._get_type("context", request, context))

    # Nine RPCs of one shape: which types (all, by ids, by external ids) of which kind.
    GetArtifactTypes = _types_rpc("artifact", svc.GetArtifactTypesResponse, "all")
    GetExecutionTypes = _types_rpc("execution", svc.GetExecutionTypesResponse, "all")
    GetContextTypes = _types_rpc("context", svc.GetContextTypesResponse, "all")
    GetArtifactTypesByID = _types_rpc("artifact", svc.GetArtifactTypesByIDResponse, "ids")
    GetExecutionTypesByID = _types_rpc("execution", svc.GetExecutionTypesByIDResponse, "ids")
    GetContextTypesByID = _types_rpc("context", svc.GetContextTypesByIDResponse, "ids")
    GetArtifactTypesByExternalIds = _types_rpc(
        "artifact", svc.GetArtifactTypesByExternalIdsResponse, "external_ids"
    )
    GetExecutionTypesByExternalIds = _types_rpc(
        "execution", svc.GetExecutionTypesByExternalIdsResponse, "external_ids"
    )
    GetContextTypesByExternalIds = _types_rpc(
        "context", svc.GetContextTypesByExternalIdsResponse, "external_ids"
    )

    # ---- nodes: writes ----------------------------------------------------------------------

    def _put_nodes(self, kind: TypeKind, request: Any, context: Any) -> list[int]:
        requested = [convert.node_in(kind, m) for m in getattr(request, PLURAL[kind])]
        mask = list(request.update_mask.paths) if request.HasField("update_mask") else []
        return self._write(  # type: ignore[no-any-return]
            context,
            lambda s: usecases.put_nodes(s, self.project, self.kind_types, kind, requested, mask),
        )

    def PutArtifacts(self, request: Any, context: Any) -> Any:
        return svc.PutArtifactsResponse(artifact_ids=self._put_nodes("artifact", request, context))

    def PutExecutions(self, request: Any, context: Any) -> Any:
        return svc.PutExecutionsResponse(
            execution_ids=self._put_nodes("execution", request, context)
        )

    def PutContexts(self, request: Any, context: Any) -> Any:
        return svc.PutContextsResponse(context_ids=self._put_nodes("context", request, context))

    def PutEvents(self, request: Any, context: Any) -> Any:
        with handled(context):
            wanted = [convert.event_in(e) for e in request.events]
        self._write(context, lambda s: usecases.put_events(s, self.project, wanted))
        return svc.PutEventsResponse()

    def PutExecution(self, request: Any, context: Any) -> Any:
        with handled(context):
            artifacts, edges = [], []
            for i, pair in enumerate(request.artifact_event_pairs):
                artifacts.append(convert.node_in("artifact", pair.artifact))
                if pair.HasField("event"):
                    edges.append((0, i, convert.event_in(pair.event)))
            g = usecases.Graph(
                executions=[convert.node_in("execution", request.execution)],
                artifacts=artifacts,
                contexts=[convert.node_in("context", c) for c in request.contexts],
                edges=edges,  # type: ignore[arg-type]
                reuse_contexts=request.options.reuse_context_if_already_exist,
                force_reuse_contexts=request.options.force_reuse_context,
                reuse_artifacts_by_external_id=(
                    request.options.reuse_artifact_if_already_exist_by_external_id
                ),
            )
        e, a, c = self._write(
            context, lambda s: usecases.put_graph(s, self.project, self.kind_types, g)
        )
        return svc.PutExecutionResponse(execution_id=e[0], artifact_ids=a, context_ids=c)

    def PutLineageSubgraph(self, request: Any, context: Any) -> Any:
        with handled(context):
            edges = [
                (
                    edge.execution_index if edge.HasField("execution_index") else None,
                    edge.artifact_index if edge.HasField("artifact_index") else None,
                    convert.event_in(edge.event),
                )
                for edge in request.event_edges
            ]
            g = usecases.Graph(
                executions=[convert.node_in("execution", m) for m in request.executions],
                artifacts=[convert.node_in("artifact", m) for m in request.artifacts],
                contexts=[convert.node_in("context", m) for m in request.contexts],
                edges=edges,
                reuse_contexts=request.options.reuse_context_if_already_exist,
                reuse_artifacts_by_external_id=(
                    request.options.reuse_artifact_if_already_exist_by_external_id
                ),
            )
        e, a, c = self._write(
            context, lambda s: usecases.put_graph(s, self.project, self.kind_types, g)
        )
        return svc.PutLineageSubgraphResponse(execution_ids=e, artifact_ids=a, context_ids=c)

    def PutAttributionsAndAssociations(self, request: Any, context: Any) -> Any:
        attributions = [(x.context_id, x.artifact_id) for x in request.attributions]
        associations = [(x.context_id, x.execution_id) for x in request.associations]
        self._write(context, lambda s: links.put_links(s, self.project, attributions, associations))
        return svc.PutAttributionsAndAssociationsResponse()

    def PutParentContexts(self, request: Any, context: Any) -> Any:
        pairs = [(p.child_id, p.parent_id) for p in request.parent_contexts]
        self._write(context, lambda s: links.put_parents(s, self.project, pairs))
        return svc.PutParentContextsResponse()

    # ---- nodes: reads -----------------------------------------------------------------------

    def GetArtifactsByID(self, request: Any, context: Any) -> Any:
        ids = _ids(request.artifact_ids, "artifact ids", context)

        def work(session: Session) -> Any:
            found = self._by_ids(session, "artifact", ids)
            out = svc.GetArtifactsByIDResponse(artifacts=[convert.node_out(n) for n in found])
            if request.populate_artifact_types:
                type_ids = sorted({n.type_id for n in found if n.type_id})
                out.artifact_types.extend(
                    convert.type_out(t)
                    for t in types.by_ids(session, self.project, "artifact", type_ids)
                )
            return out

        return self._read(context, work)

    def GetExecutionsByID(self, request: Any, context: Any) -> Any:
        ids = _ids(request.execution_ids, "execution ids", context)
        found = self._read(context, lambda s: self._by_ids(s, "execution", ids))
        return svc.GetExecutionsByIDResponse(executions=[convert.node_out(n) for n in found])

    def GetContextsByID(self, request: Any, context: Any) -> Any:
        ids = _ids(request.context_ids, "context ids", context)
        found = self._read(context, lambda s: self._by_ids(s, "context", ids))
        return svc.GetContextsByIDResponse(contexts=[convert.node_out(n) for n in found])

    def GetArtifacts(self, request: Any, context: Any) -> Any:
        found, token = self._read(context, lambda s: self._page(s, "artifact", request))
        return svc.GetArtifactsResponse(artifacts=found, next_page_token=token)

    def GetExecutions(self, request: Any, context: Any) -> Any:
        found, token = self._read(context, lambda s: self._page(s, "execution", request))
        return svc.GetExecutionsResponse(executions=found, next_page_token=token)

    def GetContexts(self, request: Any, context: Any) -> Any:
        found, token = self._read(context, lambda s: self._page(s, "context", request))
        return svc.GetContextsResponse(contexts=found, next_page_token=token)

    def _by_type(self, kind: TypeKind, request: Any, context: Any) -> tuple[list[Any], str | None]:
        def work(session: Session) -> Any:
            type_id = self._type_id(session, kind, request.type_name, request.type_version)
            if type_id is None:
                return [], None
            return self._page(session, kind, request, lambda c: [c.of_type(type_id)])

        return self._read(context, work)  # type: ignore[no-any-return]

    def GetArtifactsByType(self, request: Any, context: Any) -> Any:
        found, token = self._by_type("artifact", request, context)
        return svc.GetArtifactsByTypeResponse(artifacts=found, next_page_token=token)

    def GetExecutionsByType(self, request: Any, context: Any) -> Any:
        found, token = self._by_type("execution", request, context)
        return svc.GetExecutionsByTypeResponse(executions=found, next_page_token=token)

    def GetContextsByType(self, request: Any, context: Any) -> Any:
        found, token = self._by_type("context", request, context)
        return svc.GetContextsByTypeResponse(contexts=found, next_page_token=token)

    def _by_type_and_name(self, kind: TypeKind, request: Any, name: str, context: Any) -> Any:
        def work(session: Session) -> Any:
            type_id = self._type_id(session, kind, request.type_name, request.type_version)
            if type_id is None or not name:
                return None
            found = listing.find(
                session,
                self.project,
                kind,
                self.kind_types,
                lambda c: [c.of_type(type_id), c.attrs["name"] == name],
                limit=1,
            )
            return convert.node_out(found[0]) if found else None

        return self._read(context, work)

    def GetArtifactByTypeAndName(self, request: Any, context: Any) -> Any:
        found = self._by_type_and_name("artifact", request, request.artifact_name, context)
        return svc.GetArtifactByTypeAndNameResponse(artifact=found)

    def GetExecutionByTypeAndName(self, request: Any, context: Any) -> Any:
        found = self._by_type_and_name("execution", request, request.execution_name, context)
        return svc.GetExecutionByTypeAndNameResponse(execution=found)

    def GetContextByTypeAndName(self, request: Any, context: Any) -> Any:
        found = self._by_type_and_name("context", request, request.context_name, context)
        return svc.GetContextByTypeAndNameResponse(context=found)

    def _where_all(self, kind: TypeKind, column: str, values: list[Any], context: Any) -> list[Any]:
        if not values:
            return []
        found = self._read(
            context,
            lambda s: listing.find(
                s, self.project, kind, self.kind_types, lambda c: [c.attrs[column].in_(values)]
            ),
        )
        return [convert.node_out(n) for n in found]

    def GetArtifactsByURI(self, request: Any, context: Any) -> Any:
        uris = _ids(request.uris, "uris", context)
        return svc.GetArtifactsByURIResponse(
            artifacts=self._where_all("artifact", "uri", uris, context)
        )

    def GetArtifactsByExternalIds(self, request: Any, context: Any) -> Any:
        ext = _ids(request.external_ids, "external ids", context)
        return svc.GetArtifactsByExternalIdsResponse(
            artifacts=self._where_all("artifact", "external_id", ext, context)
        )

    def GetExecutionsByExternalIds(self, request: Any, context: Any) -> Any:
        ext = _ids(request.external_ids, "external ids", context)
        return svc.GetExecutionsByExternalIdsResponse(
            executions=self._where_all("execution", "external_id", ext, context)
        )

    def GetContextsByExternalIds(self, request: Any, context: Any) -> Any:
        ext = _ids(request.external_ids, "external ids", context)
        return svc.GetContextsByExternalIdsResponse(
            contexts=self._where_all("context", "external_id", ext, context)
        )

    def _in_context(
        self, kind: TypeKind, request: Any, context: Any
    ) -> tuple[list[Any], str | None]:
        link: Any = AttributionRow if kind == "artifact" else AssociationRow
        column = link.artifact_id if kind == "artifact" else link.execution_id
        members = select(column).where(link.context_id == request.context_id)
        return self._read(  # type: ignore[no-any-return]
            context, lambda s: self._page(s, kind, request, lambda c: [c.base.id.in_(members)])
        )

    def GetArtifactsByContext(self, request: Any, context: Any) -> Any:
        found, token = self._in_context("artifact", request, context)
        return svc.GetArtifactsByContextResponse(artifacts=found, next_page_token=token)

    def GetExecutionsByContext(self, request: Any, context: Any) -> Any:
        found, token = self._in_context("execution", request, context)
        return svc.GetExecutionsByContextResponse(executions=found, next_page_token=token)

    def _contexts_of(
        self, pairs_of: Callable[[Session], set[tuple[int, int]]], context: Any
    ) -> list[Any]:
        def work(session: Session) -> list[Node]:
            ids = sorted({c for c, _ in pairs_of(session)})
            return self._by_ids(session, "context", ids)

        return [convert.node_out(n) for n in self._read(context, work)]

    def GetContextsByArtifact(self, request: Any, context: Any) -> Any:
        found = self._contexts_of(
            lambda s: links.attributions_of(s, artifact_ids=[request.artifact_id]), context
        )
        return svc.GetContextsByArtifactResponse(contexts=found)

    def GetContextsByExecution(self, request: Any, context: Any) -> Any:
        found = self._contexts_of(
            lambda s: links.associations_of(s, execution_ids=[request.execution_id]), context
        )
        return svc.GetContextsByExecutionResponse(contexts=found)

    def _related(self, session: Session, ids: list[int], parents: bool) -> dict[int, list[Node]]:
        pairs = (links.parents_of if parents else links.children_of)(session, ids)
        others = nodes.by_ids(
            session,
            self.project,
            "context",
            [p if parents else c for c, p in pairs],
            self.kind_types,
        )
        out: dict[int, list[Node]] = {}
        for child, parent in pairs:
            key, other = (child, parent) if parents else (parent, child)
            if other in others:
                out.setdefault(key, []).append(others[other])
        return out

    def GetParentContextsByContext(self, request: Any, context: Any) -> Any:
        found = self._read(context, lambda s: self._related(s, [request.context_id], True))
        return svc.GetParentContextsByContextResponse(
            contexts=[convert.node_out(n) for n in found.get(request.context_id, [])]
        )

    def GetChildrenContextsByContext(self, request: Any, context: Any) -> Any:
        found = self._read(context, lambda s: self._related(s, [request.context_id], False))
        return svc.GetChildrenContextsByContextResponse(
            contexts=[convert.node_out(n) for n in found.get(request.context_id, [])]
        )

    def GetParentContextsByContexts(self, request: Any, context: Any) -> Any:
        ids = _ids(request.context_ids, "context ids", context)
        found = self._read(context, lambda s: self._related(s, ids, True))
        out = svc.GetParentContextsByContextsResponse()
        for child, parents in found.items():
            out.contexts[child].parent_contexts.extend(convert.node_out(n) for n in parents)
        return out

    def GetChildrenContextsByContexts(self, request: Any, context: Any) -> Any:
        ids = _ids(request.context_ids, "context ids", context)
        found = self._read(context, lambda s: self._related(s, ids, False))
        out = svc.GetChildrenContextsByContextsResponse()
        for parent, children in found.items():
            out.contexts[parent].children_contexts.extend(convert.node_out(n) for n in children)
        return out

    def GetEventsByExecutionIDs(self, request: Any, context: Any) -> Any:
        ids = _ids(request.execution_ids, "execution ids", context)
        found = self._read(context, lambda s: links.events_of(s, execution_ids=ids))
        return svc.GetEventsByExecutionIDsResponse(events=[convert.event_out(e) for e in found])

    def GetEventsByArtifactIDs(self, request: Any, context: Any) -> Any:
        ids = _ids(request.artifact_ids, "artifact ids", context)
        found = self._read(context, lambda s: links.events_of(s, artifact_ids=ids))
        return svc.GetEventsByArtifactIDsResponse(events=[convert.event_out(e) for e in found])

    # ---- lineage ----------------------------------------------------------------------------

    def _assemble(self, session: Session, reached: graph.Reached, mask: set[str]) -> Any:
        """The LineageGraph of the reached nodes: their contexts, the events, attributions and
        associations among them, and their types; `mask` picks fields (empty: all)."""

        def wants(name: str) -> bool:
            return not mask or name in mask

        out = pb.LineageGraph()
        attributions = {
            (c, a) for c, a in links.attributions_of(session, artifact_ids=reached.artifacts)
        }
        associations = {
            (c, e) for c, e in links.associations_of(session, execution_ids=reached.executions)
        }
        context_ids = sorted({c for c, _ in attributions} | {c for c, _ in associations})
        found: dict[str, list[Node]] = {
            "artifact": self._by_ids(session, "artifact", sorted(reached.artifacts)),
            "execution": self._by_ids(session, "execution", sorted(reached.executions)),
            "context": self._by_ids(session, "context", context_ids),
        }
        type_ids = {
            n.type_id for kind in KINDS if wants(f"{kind}_types") for n in found[kind] if n.type_id
        }
        typed = types.by_ids(session, self.project, None, sorted(type_ids))  # every kind at once
        for kind in KINDS:
            plural = PLURAL[kind]
            if wants(plural):
                getattr(out, plural).extend(convert.node_out(n) for n in found[kind])
            if wants(f"{kind}_types"):
                getattr(out, f"{kind}_types").extend(
                    convert.type_out(t) for t in typed if t.kind == kind
                )
        if wants("events"):
            out.events.extend(
                convert.event_out(e)
                for e in links.events_of(session, execution_ids=reached.executions)
                if e.artifact_id in reached.artifacts
            )
        if wants("attributions"):
            out.attributions.extend(
                pb.Attribution(context_id=c, artifact_id=a) for c, a in sorted(attributions)
            )
        if wants("associations"):
            out.associations.extend(
                pb.Association(context_id=c, execution_id=e) for c, e in sorted(associations)
            )
        return out

    def _matching(self, session: Session, kind: TypeKind, query: str) -> set[int]:
        return set(
            listing.matching_ids(
                session, self.project, kind, self.kind_types, query, self.max_nodes + 1
            )
        )

    def GetLineageSubgraph(self, request: Any, context: Any) -> Any:
        options = request.lineage_subgraph_query_options
        mask = set(request.read_mask.paths) if request.HasField("read_mask") else set()

        def work(session: Session) -> Any:
            which = options.WhichOneof("starting_nodes")
            if which is None:
                raise InvalidArgument(
                    "lineage_subgraph_query_options needs starting_artifacts or starting_executions"
                )
            if options.max_num_hops < 0:
                raise InvalidArgument("max_num_hops must be at least 0")
            query = getattr(options, which).filter_query
            if not query:
                raise InvalidArgument(f"{which} needs a filter_query")
            start = self._matching(
                session, "artifact" if which == "starting_artifacts" else "execution", query
            )
            if len(start) > self.max_nodes:
                raise InvalidArgument(
                    f"more than {self.max_nodes} starting nodes; narrow the filter"
                )
            stops: dict[str, Callable[[set[int]], set[int]] | None] = {
                "artifact": None,
                "execution": None,
            }
            keep = True
            ending = next(
                (f for f in ("ending_artifacts", "ending_executions") if options.HasField(f)), None
            )
            if ending is not None:
                end_kind: TypeKind = "artifact" if ending == "ending_artifacts" else "execution"
                end_query = getattr(options, ending).filter_query
                keep = getattr(options, ending).include_ending_nodes
                if end_query:

                    def stop(ids: set[int], k: TypeKind = end_kind, q: str = end_query) -> set[int]:
                        return ids & self._matching(session, k, q)

                    stops[end_kind] = stop
            reached = graph.walk(
                session,
                start if which == "starting_artifacts" else set(),
                start if which == "starting_executions" else set(),
                max_hops=options.max_num_hops,
                direction=options.direction or graph.BOTH,
                max_nodes=self.max_nodes,
                stop_artifact=stops["artifact"],
                stop_execution=stops["execution"],
                keep_stops=keep,
            )
            return self._assemble(session, reached, mask)

        return svc.GetLineageSubgraphResponse(lineage_subgraph=self._read(context, work))

    def GetLineageGraph(self, request: Any, context: Any) -> Any:
        options = request.options

        def work(session: Session) -> Any:
            list_options = convert.list_options_in(
                options.artifacts_options, options.HasField("artifacts_options")
            )
            starts, _ = listing.list_nodes(
                session, self.project, "artifact", self.kind_types, list_options
            )
            stop = options.stop_conditions
            hops = stop.max_num_hops if stop.HasField("max_num_hops") else 20
            if hops < 0:
                raise InvalidArgument("max_num_hops must be at least 0")
            max_nodes = options.max_node_size if options.max_node_size > 0 else self.max_nodes
            keep_a = stop.boundary_artifacts
            keep_e = stop.boundary_executions
            reached = graph.walk(
                session,
                {n.id for n in starts if n.id is not None},
                set(),
                max_hops=hops,
                max_nodes=max(self.max_nodes, max_nodes),
                # Boundary filters: the walk goes only through nodes they match.
                stop_artifact=(lambda ids: ids - self._matching(session, "artifact", keep_a))
                if keep_a
                else None,
                stop_execution=(lambda ids: ids - self._matching(session, "execution", keep_e))
                if keep_e
                else None,
                keep_stops=False,
            )
            if len(reached) > max_nodes:
                trimmed = graph.Reached(set(), set())
                for a in sorted(reached.artifacts):
                    if len(trimmed) < max_nodes:
                        trimmed.artifacts.add(a)
                for e in sorted(reached.executions):
                    if len(trimmed) < max_nodes:
                        trimmed.executions.add(e)
                reached = trimmed
            return self._assemble(session, reached, set())

        return svc.GetLineageGraphResponse(subgraph=self._read(context, work))
