"""Lineage walks as recursive SQL over the `event` table.

The graph is bipartite (artifact -> execution -> artifact), so a walk alternates between the two
covering indexes on `event`; every hop is an index lookup, never a Python loop issuing one query
per node. Depth counts edges, as MLMD's `max_num_hops` does.

A lineage answer is two statements: the walk (both directions at once, with the root's project
check and every node's details joined in) and the edges between the nodes found.

Postgres allows one recursive reference in a CTE, so its step is a LATERAL union; SQLite has no
LATERAL but allows several recursive SELECTs. Both evaluate breadth first, so the row cap (which
bounds the work when many paths reach the same nodes) cuts the deepest level first.
"""

from __future__ import annotations

from collections.abc import Sequence, Set

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from ..entities import Direction, Event, LineageEdge, LineageGraph, LineageNode, NodeType, node_key
from ..errors import NotFound

# The event type that leads away from an artifact / an execution, walking up ('u') or down ('d').
_FROM_ARTIFACT = "CASE w.dir WHEN 'u' THEN 'OUTPUT' ELSE 'INPUT' END"
_FROM_EXECUTION = "CASE w.dir WHEN 'u' THEN 'INPUT' ELSE 'OUTPUT' END"

_PG_STEP = f"""
    SELECT w.dir, nxt.node_type, nxt.node_id{{depth_next}}
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT 'e' AS node_type, ev.execution_id AS node_id FROM event ev
         WHERE w.node_type = 'a' AND ev.artifact_id = w.node_id AND ev.type = {_FROM_ARTIFACT}
        UNION ALL
        SELECT 'a', ev.artifact_id FROM event ev
         WHERE w.node_type = 'e' AND ev.execution_id = w.node_id AND ev.type = {_FROM_EXECUTION}
    ) nxt
    {{depth_where}}
"""

_SQLITE_STEP = f"""
    SELECT w.dir, 'e', ev.execution_id{{depth_next}} FROM walk w
      JOIN event ev ON ev.artifact_id = w.node_id AND ev.type = {_FROM_ARTIFACT}
     WHERE w.node_type = 'a' {{depth_and}}
    UNION
    SELECT w.dir, 'a', ev.artifact_id{{depth_next}} FROM walk w
      JOIN event ev ON ev.execution_id = w.node_id AND ev.type = {_FROM_EXECUTION}
     WHERE w.node_type = 'e' {{depth_and}}
"""


def _walk_cte(dialect: str, seed: str, *, with_depth: bool, row_cap: bool) -> str:
    columns = "dir, node_type, node_id" + (", depth" if with_depth else "")
    depth_next = ", w.depth + 1" if with_depth else ""
    if dialect == "postgresql":
        step = _PG_STEP.format(
            depth_next=depth_next, depth_where="WHERE w.depth < :max_depth" if with_depth else ""
        )
        return f"WITH RECURSIVE walk({columns}) AS ({seed} UNION {step})"
    step = _SQLITE_STEP.format(
        depth_next=depth_next, depth_and="AND w.depth < :max_depth" if with_depth else ""
    )
    limit = " LIMIT :row_cap" if row_cap else ""
    return f"WITH RECURSIVE walk({columns}) AS ({seed} UNION {step}{limit})"


_ROOT = (
    "SELECT 'u', CAST(:root_type AS TEXT), CAST(:root_id AS BIGINT), 0 WHERE :up = 1 "
    "UNION ALL "
    "SELECT 'd', CAST(:root_type AS TEXT), CAST(:root_id AS BIGINT), 0 WHERE :down = 1"
)


def _walk_sql(dialect: str) -> str:
    postgres = dialect == "postgresql"
    capped = "SELECT * FROM walk" + (" LIMIT :row_cap" if postgres else "")
    details = _PG_DETAILS if postgres else _SQLITE_DETAILS
    return (
        _walk_cte(dialect, _ROOT, with_depth=True, row_cap=True)
        + f""",
    capped AS ({capped}),
    found AS (
        SELECT node_type, node_id, MIN(depth) AS depth FROM capped
         GROUP BY node_type, node_id
         ORDER BY MIN(depth), node_type, node_id
         LIMIT :node_cap
    )
    SELECT f.node_type, f.node_id, f.depth,
           COALESCE(a.kind, e.kind), COALESCE(a.name, e.name), a.version,
           COALESCE(a.state, e.state), (SELECT COUNT(*) FROM capped)
      FROM found f
      {details}
     ORDER BY f.depth, f.node_type, f.node_id
    """
    )


# Many starting nodes (MLMD's starting_artifacts / starting_executions), one walk each way.
_SEEDS = (
    "SELECT 'u', 'a', id, 0 FROM artifact WHERE :up = 1 AND id IN :as_ "
    "UNION ALL SELECT 'd', 'a', id, 0 FROM artifact WHERE :down = 1 AND id IN :as_ "
    "UNION ALL SELECT 'u', 'e', id, 0 FROM execution WHERE :up = 1 AND id IN :es "
    "UNION ALL SELECT 'd', 'e', id, 0 FROM execution WHERE :down = 1 AND id IN :es"
)


def reach(
    session: Session,
    artifacts: Set[int],
    executions: Set[int],
    *,
    up: bool,
    down: bool,
    depth: int,
    node_cap: int,
) -> tuple[set[int], set[int]] | None:
    """The artifacts and executions within `depth` edges of any start (the starts included),
    in one statement; at most `node_cap` of them. None when the walk's row cap (paths reaching
    the same nodes over and over) cut it short, so the answer could be incomplete."""
    dialect = session.get_bind().dialect.name
    capped = "SELECT * FROM walk" + (" LIMIT :row_cap" if dialect == "postgresql" else "")
    sql = _walk_cte(dialect, _SEEDS, with_depth=True, row_cap=True) + (
        f", capped AS ({capped}) "
        "SELECT node_type, node_id, (SELECT COUNT(*) FROM capped) FROM capped "
        "GROUP BY node_type, node_id LIMIT :node_cap"
    )
    row_cap = node_cap * 4 + 1
    statement = text(sql).bindparams(*(bindparam(n, expanding=True) for n in ("as_", "es")))
    rows = session.execute(
        statement,
        {
            "as_": sorted(artifacts) or [-1],
            "es": sorted(executions) or [-1],
            "up": int(up),
            "down": int(down),
            "max_depth": depth,
            "row_cap": row_cap,
            "node_cap": node_cap,
        },
    ).all()
    if rows and rows[0][2] >= row_cap:
        return None
    found_a = {int(i) for t, i, _ in rows if t == "a"}
    found_e = {int(i) for t, i, _ in rows if t == "e"}
    return found_a, found_e


# Node details by primary key. On Postgres the lookups are LATERAL so that each is an index
# probe (LIMIT 1 keeps Postgres from flattening them): the planner cannot estimate the walk's size
# and would otherwise hash-join against a
# scan of the whole table.
_PG_DETAILS = """
      LEFT JOIN LATERAL (SELECT kind, name, version, state FROM artifact
                          WHERE f.node_type = 'a' AND id = f.node_id
                            AND project_id = :project_id LIMIT 1) a ON true
      LEFT JOIN LATERAL (SELECT kind, name, state FROM execution
                          WHERE f.node_type = 'e' AND id = f.node_id
                            AND project_id = :project_id LIMIT 1) e ON true
"""
_SQLITE_DETAILS = """
      LEFT JOIN artifact a ON f.node_type = 'a' AND a.id = f.node_id AND a.project_id = :project_id
      LEFT JOIN execution e ON f.node_type = 'e' AND e.id = f.node_id AND e.project_id = :project_id
"""


# What one lineage answer holds at most per node; the GraphQL cost limit counts with it.
EDGES_PER_NODE = 3


def walk(
    session: Session,
    project_id: int,
    root_type: NodeType,
    root_id: int,
    direction: Direction,
    *,
    depth: int,
    max_nodes: int,
) -> LineageGraph:
    """The subgraph within `depth` edges of the root, at most `max_nodes` nodes (the nearest).

    Raises:
        NotFound: the root is not in the project.
    """
    dialect = session.get_bind().dialect.name
    # Duplicate rows (a node reached at several depths) cost work, so the walk is capped in rows.
    row_cap = max_nodes * 4 + 1
    rows = session.execute(
        text(_walk_sql(dialect)),
        {
            "root_type": root_type[0],
            "root_id": root_id,
            "up": int(direction in ("upstream", "both")),
            "down": int(direction in ("downstream", "both")),
            "max_depth": depth,
            "row_cap": row_cap,
            "node_cap": max_nodes + 1,
            "project_id": project_id,
        },
    ).all()
    if not rows or rows[0][3] is None:  # the root comes first (depth 0); no details: not ours
        raise NotFound(
            f"{root_type} {root_id} does not exist", details={f"{root_type}_id": root_id}
        )
    truncated = len(rows) > max_nodes or rows[0][7] >= row_cap
    nodes = [
        LineageNode(
            type="artifact" if t == "a" else "execution",
            id=int(node_id),
            kind=kind,
            name=name,
            version=version,
            state=state,
            depth=int(d),
        )
        for t, node_id, d, kind, name, version, state, _ in rows[:max_nodes]
        if kind is not None
    ]
    edges = _edges(
        session,
        [n.id for n in nodes if n.type == "artifact"],
        [n.id for n in nodes if n.type == "execution"],
        limit=EDGES_PER_NODE * max_nodes + 1,
    )
    if len(edges) > EDGES_PER_NODE * max_nodes:  # a dense neighbourhood: cut, and say so
        edges, truncated = edges[: EDGES_PER_NODE * max_nodes], True
    return LineageGraph(
        root=node_key(root_type, root_id), nodes=nodes, edges=edges, truncated=truncated
    )


def downstream_models(
    session: Session,
    project_id: int,
    artifact_ids: Sequence[int],
    *,
    max_nodes: int,
    near: int = 1_000,
) -> tuple[list[int], bool]:
    """The model artifacts downstream of any of `artifact_ids`, and whether the walk was cut
    at `max_nodes` artifacts.

    Each artifact is visited once however many paths reach it, and nothing but ids is read on
    the way. A table thousands of runs read has a huge downstream and few models in it, so a
    walk that outgrows `near` artifacts gives way to the other direction: upstream from every
    model at once (each row carries its model), which answers the same question by the
    smaller side; only when that outgrows `max_nodes` too is the downstream walk finished.
    """
    if not artifact_ids:
        return [], False
    ids = sorted(set(artifact_ids))
    postgres = session.get_bind().dialect.name == "postgresql"
    found, walked = _models_walk(session, _DOWNSTREAM[postgres], project_id, ids, near)
    if walked < near:
        return found, False
    found, walked = _models_walk(session, _UPSTREAM[postgres], project_id, ids, max_nodes)
    if walked < max_nodes:
        return found, False
    found, walked = _models_walk(session, _DOWNSTREAM[postgres], project_id, ids, max_nodes)
    return found, walked >= max_nodes


def _models_walk(
    session: Session, sql: str, project_id: int, ids: list[int], cap: int
) -> tuple[list[int], int]:
    rows = session.execute(
        text(sql).bindparams(bindparam("ids", expanding=True)),
        {"ids": ids, "project_id": project_id, "cap": cap},
    ).all()
    walked = int(rows[0][1]) if rows else 0
    return sorted({int(r[0]) for r in rows if r[0] is not None}), walked


# Postgres stops a recursive CTE as soon as the LIMIT reading it is met; SQLite needs the
# LIMIT inside it. The last line answers one row even when no model is found, for the count.
_DOWNSTREAM_WALK = """
WITH RECURSIVE walk(artifact_id) AS (
    SELECT id FROM artifact WHERE project_id = :project_id AND id IN :ids
    UNION
    SELECT o.artifact_id FROM walk w
      JOIN event i ON i.artifact_id = w.artifact_id AND i.type = 'INPUT'
      JOIN event o ON o.execution_id = i.execution_id AND o.type = 'OUTPUT'
    {inner}
),
capped AS (SELECT artifact_id FROM walk {outer}),
models AS (
    SELECT a.id FROM capped c JOIN artifact a ON a.id = c.artifact_id WHERE a.kind = 'model'
)
SELECT m.id, (SELECT COUNT(*) FROM capped) FROM (SELECT 1) one LEFT JOIN models m ON true
"""
_UPSTREAM_WALK = """
WITH RECURSIVE walk(model_id, artifact_id) AS (
    SELECT id, id FROM artifact WHERE project_id = :project_id AND kind = 'model'
    UNION
    SELECT w.model_id, i.artifact_id FROM walk w
      JOIN event o ON o.artifact_id = w.artifact_id AND o.type = 'OUTPUT'
      JOIN event i ON i.execution_id = o.execution_id AND i.type = 'INPUT'
    {inner}
),
capped AS (SELECT model_id, artifact_id FROM walk {outer}),
models AS (SELECT DISTINCT model_id AS id FROM capped WHERE artifact_id IN :ids)
SELECT m.id, (SELECT COUNT(*) FROM capped) FROM (SELECT 1) one LEFT JOIN models m ON true
"""
_DOWNSTREAM = {
    True: _DOWNSTREAM_WALK.format(inner="", outer="LIMIT :cap"),
    False: _DOWNSTREAM_WALK.format(inner="LIMIT :cap", outer=""),
}
_UPSTREAM = {
    True: _UPSTREAM_WALK.format(inner="", outer="LIMIT :cap"),
    False: _UPSTREAM_WALK.format(inner="LIMIT :cap", outer=""),
}


def find_cycle(
    session: Session,
    edges: Sequence[Event],
    fresh_executions: Set[int] = frozenset(),
    fresh_artifacts: Set[int] = frozenset(),
) -> list[tuple[NodeType, int]] | None:
    """A cycle the graph has through `edges` (its nodes in order), or None.

    The stored graph without `edges` is acyclic, so any cycle uses some of them, and its stretches
    over stored edges run between stored nodes `edges` touch: from one an edge enters (a stored
    execution given an input, a stored artifact given as an output) to one an edge leaves. One
    walk finds those stretches, from the entered nodes only; the cycle itself is then looked for
    in memory, over `edges` and the stretches. Nodes made in this unit of work (`fresh_*`) have
    no stored edges, so a batch of new runs and new versions needs no walk at all.
    """
    graph: dict[tuple[NodeType, int], set[tuple[NodeType, int]]] = {}
    entered_e, entered_a, left_e, left_a = set(), set(), set(), set()
    for e in edges:
        run: tuple[NodeType, int] = ("execution", e.execution_id)
        thing: tuple[NodeType, int] = ("artifact", e.artifact_id)
        if e.type == "INPUT":
            graph.setdefault(thing, set()).add(run)
            if e.execution_id not in fresh_executions:
                entered_e.add(e.execution_id)
            if e.artifact_id not in fresh_artifacts:
                left_a.add(e.artifact_id)
        else:
            graph.setdefault(run, set()).add(thing)
            if e.artifact_id not in fresh_artifacts:
                entered_a.add(e.artifact_id)
            if e.execution_id not in fresh_executions:
                left_e.add(e.execution_id)
    if (entered_e or entered_a) and (left_e or left_a):
        statement = text(_STRETCHES).bindparams(
            *(bindparam(n, expanding=True) for n in ("es", "as_", "to_a", "to_e"))
        )
        rows = session.execute(
            statement,
            {
                "es": sorted(entered_e) or [-1],
                "as_": sorted(entered_a) or [-1],
                "to_a": sorted(left_a) or [-1],
                "to_e": sorted(left_e) or [-1],
            },
        )
        for from_type, from_id, to_type, to_id in rows:
            start: tuple[NodeType, int] = (_TYPES[from_type], int(from_id))
            end: tuple[NodeType, int] = (_TYPES[to_type], int(to_id))
            if start != end:  # a stretch of no edges: the walk's own start
                graph.setdefault(start, set()).add(end)
    return _cycle_in(graph)


_TYPES: dict[str, NodeType] = {"e": "execution", "a": "artifact"}

# From each entered node (an execution: from its outputs), artifact to artifact through one
# execution a step; which of the left nodes each reaches. UNION ends it on any graph.
_STRETCHES = """
WITH RECURSIVE walk(origin_type, origin_id, artifact_id) AS (
    SELECT 'e', execution_id, artifact_id FROM event
     WHERE type = 'OUTPUT' AND execution_id IN :es
    UNION
    SELECT 'a', id, id FROM artifact WHERE id IN :as_
    UNION
    SELECT w.origin_type, w.origin_id, o.artifact_id FROM walk w
      JOIN event i ON i.artifact_id = w.artifact_id AND i.type = 'INPUT'
      JOIN event o ON o.execution_id = i.execution_id AND o.type = 'OUTPUT'
)
SELECT origin_type, origin_id, 'a', artifact_id FROM walk WHERE artifact_id IN :to_a
UNION
SELECT w.origin_type, w.origin_id, 'e', i.execution_id FROM walk w
  JOIN event i ON i.artifact_id = w.artifact_id AND i.type = 'INPUT'
 WHERE i.execution_id IN :to_e
"""


def _cycle_in(
    graph: dict[tuple[NodeType, int], set[tuple[NodeType, int]]],
) -> list[tuple[NodeType, int]] | None:
    """A cycle of a small directed graph, by an iterative depth-first search."""
    done: set[tuple[NodeType, int]] = set()
    for root in sorted(graph):
        if root in done:
            continue
        path = [root]
        on_path = {root}
        stack = [iter(sorted(graph.get(root, ())))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif nxt in on_path:
                return path[path.index(nxt) :]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def _edges(
    session: Session, artifact_ids: Sequence[int], execution_ids: Sequence[int], *, limit: int
) -> list[LineageEdge]:
    """The events between the nodes found (the first `limit`): INPUT runs artifact ->
    execution, OUTPUT back."""
    if not artifact_ids or not execution_ids:
        return []
    if session.get_bind().dialect.name == "postgresql":
        statement = text(
            "SELECT artifact_id, execution_id, type FROM event "
            "WHERE execution_id = ANY(:executions) AND artifact_id = ANY(:artifacts) "
            "ORDER BY id LIMIT :limit"
        )
    else:
        statement = text(
            "SELECT artifact_id, execution_id, type FROM event "
            "WHERE execution_id IN :executions AND artifact_id IN :artifacts "
            "ORDER BY id LIMIT :limit"
        ).bindparams(
            bindparam("executions", expanding=True), bindparam("artifacts", expanding=True)
        )
    rows = session.execute(
        statement,
        {"executions": list(execution_ids), "artifacts": list(artifact_ids), "limit": limit},
    )
    edges = []
    for artifact_id, execution_id, event_type in rows:
        a, e = node_key("artifact", artifact_id), node_key("execution", execution_id)
        if event_type == "INPUT":
            edges.append(LineageEdge(source=a, target=e, type="INPUT"))
        else:
            edges.append(LineageEdge(source=e, target=a, type="OUTPUT"))
    return edges
