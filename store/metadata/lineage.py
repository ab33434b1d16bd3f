"""Lineage walks as one recursive SQL query each, over the `event` table.

The graph is bipartite (artifact -> execution -> artifact), so a walk alternates between the two
covering indexes on `event`; every hop is an index lookup, never a Python loop issuing one query
per node. Depth counts edges, as MLMD's `max_num_hops` does.

Postgres allows one recursive reference in a CTE, so its step is a LATERAL union; SQLite has no
LATERAL but allows several recursive SELECTs. Both evaluate breadth first, so the row cap cuts the
deepest level first.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from ..entities import Direction, LineageEdge, LineageGraph, LineageNode, NodeType, node_key
from ..models import EventRow

# Which event type leads away from an artifact / from an execution, per direction.
_STEPS = {"upstream": ("OUTPUT", "INPUT"), "downstream": ("INPUT", "OUTPUT")}

_PG_STEP = """
    SELECT nxt.node_type, nxt.node_id{depth_next}
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT 'e' AS node_type, ev.execution_id AS node_id FROM event ev
         WHERE w.node_type = 'a' AND ev.artifact_id = w.node_id AND ev.type = :a_type
        UNION ALL
        SELECT 'a', ev.artifact_id FROM event ev
         WHERE w.node_type = 'e' AND ev.execution_id = w.node_id AND ev.type = :e_type
    ) nxt
    {depth_filter}
"""

_SQLITE_STEP = """
    SELECT 'e', ev.execution_id{depth_next} FROM walk w
      JOIN event ev ON ev.artifact_id = w.node_id AND ev.type = :a_type
     WHERE w.node_type = 'a' {depth_and}
    UNION
    SELECT 'a', ev.artifact_id{depth_next} FROM walk w
      JOIN event ev ON ev.execution_id = w.node_id AND ev.type = :e_type
     WHERE w.node_type = 'e' {depth_and}
"""


def _walk_sql(dialect: str, *, with_depth: bool, seed: str) -> str:
    columns = "node_type, node_id, depth" if with_depth else "node_type, node_id"
    if dialect == "postgresql":
        step = _PG_STEP.format(
            depth_next=", w.depth + 1" if with_depth else "",
            depth_filter="WHERE w.depth < :max_depth" if with_depth else "",
        )
        return f"WITH RECURSIVE walk({columns}) AS ({seed} UNION {step})"
    step = _SQLITE_STEP.format(
        depth_next=", w.depth + 1" if with_depth else "",
        depth_and="AND w.depth < :max_depth" if with_depth else "",
    )
    return f"WITH RECURSIVE walk({columns}) AS ({seed} UNION {step} LIMIT :row_cap)"


def walk(
    session: Session,
    root_type: NodeType,
    root_id: int,
    direction: Direction,
    *,
    depth: int,
    max_nodes: int,
) -> LineageGraph:
    """The subgraph within `depth` edges of the root, at most `max_nodes` nodes.

    `truncated` is set when the node limit cut the walk short; the nodes kept are the nearest.
    """
    dialect = session.get_bind().dialect.name
    directions = ["upstream", "downstream"] if direction == "both" else [direction]
    found: dict[tuple[str, int], int] = {}
    truncated = False
    # Duplicate rows (a node reached at several depths) cost work, so the walk is capped in rows.
    row_cap = max_nodes * 4 + 1
    seed = "SELECT CAST(:root_type AS TEXT), CAST(:root_id AS BIGINT), 0"
    for d in directions:
        a_type, e_type = _STEPS[d]
        sql = _walk_sql(dialect, with_depth=True, seed=seed)
        capped = "(SELECT * FROM walk LIMIT :row_cap)" if dialect == "postgresql" else "walk"
        sql += f"""
            SELECT node_type, node_id, MIN(depth) AS depth, COUNT(*) OVER () AS total,
                   (SELECT COUNT(*) FROM {capped} c) AS rows_seen
              FROM {capped} w
             GROUP BY node_type, node_id
             ORDER BY depth, node_type, node_id
             LIMIT :node_cap
        """
        rows = session.execute(
            text(sql),
            {
                "root_type": root_type[0],
                "root_id": root_id,
                "a_type": a_type,
                "e_type": e_type,
                "max_depth": depth,
                "row_cap": row_cap,
                "node_cap": max_nodes,
            },
        ).all()
        for node_type, node_id, node_depth, total, rows_seen in rows:
            key = ("artifact" if node_type == "a" else "execution", int(node_id))
            found[key] = min(found.get(key, node_depth), node_depth)
            truncated = truncated or total > max_nodes or rows_seen >= row_cap
    if len(found) > max_nodes:
        truncated = True
        keep = sorted(found.items(), key=lambda kv: (kv[1], kv[0]))[:max_nodes]
        found = dict(keep)
    nodes = _describe(session, found)
    edges = _edges(
        session,
        [i for (t, i) in found if t == "artifact"],
        [i for (t, i) in found if t == "execution"],
    )
    return LineageGraph(
        root=node_key(root_type, root_id), nodes=nodes, edges=edges, truncated=truncated
    )


def reachable(
    session: Session,
    start_type: NodeType,
    start_ids: Sequence[int],
    direction: Direction,
    targets: Sequence[int],
) -> set[int]:
    """Which of the `targets` (artifact ids) are reachable from the start nodes.

    Deduplicates nodes (UNION without depth), so it terminates on any graph; used to refuse
    events that would close a cycle.
    """
    if not start_ids or not targets:
        return set()
    dialect = session.get_bind().dialect.name
    a_type, e_type = _STEPS[direction]
    seed = " UNION ".join(
        f"SELECT CAST('{start_type[0]}' AS TEXT), CAST(:s{i} AS BIGINT)"
        for i in range(len(start_ids))
    )
    sql = _walk_sql(dialect, with_depth=False, seed=seed).replace(" LIMIT :row_cap", "")
    sql += " SELECT node_id FROM walk WHERE node_type = 'a' AND node_id IN :targets"
    params = {f"s{i}": v for i, v in enumerate(start_ids)}
    statement = text(sql).bindparams(bindparam("targets", expanding=True))
    rows = session.execute(
        statement, {**params, "a_type": a_type, "e_type": e_type, "targets": list(targets)}
    )
    return {int(r[0]) for r in rows}


def _describe(session: Session, found: dict[tuple[str, int], int]) -> list[LineageNode]:
    from ..models import ArtifactRow, ExecutionRow

    artifact_ids = [i for (t, i) in found if t == "artifact"]
    execution_ids = [i for (t, i) in found if t == "execution"]
    nodes: list[LineageNode] = []
    if artifact_ids:
        for row in session.execute(
            select(
                ArtifactRow.id,
                ArtifactRow.kind,
                ArtifactRow.name,
                ArtifactRow.version,
                ArtifactRow.state,
            ).where(ArtifactRow.id.in_(artifact_ids))
        ):
            nodes.append(
                LineageNode(
                    "artifact",
                    row.id,
                    row.kind,
                    row.name,
                    row.version,
                    row.state,
                    found[("artifact", row.id)],
                )
            )
    if execution_ids:
        for row in session.execute(
            select(ExecutionRow.id, ExecutionRow.kind, ExecutionRow.name, ExecutionRow.state).where(
                ExecutionRow.id.in_(execution_ids)
            )
        ):
            nodes.append(
                LineageNode(
                    "execution",
                    row.id,
                    row.kind,
                    row.name,
                    None,
                    row.state,
                    found[("execution", row.id)],
                )
            )
    nodes.sort(key=lambda n: (n.depth, n.type, n.id))
    return nodes


def _edges(
    session: Session, artifact_ids: Sequence[int], execution_ids: Sequence[int]
) -> list[LineageEdge]:
    """Every event between the nodes found: INPUT runs artifact -> execution, OUTPUT back."""
    if not artifact_ids or not execution_ids:
        return []
    rows = session.execute(
        select(EventRow.artifact_id, EventRow.execution_id, EventRow.type)
        .where(EventRow.execution_id.in_(execution_ids), EventRow.artifact_id.in_(artifact_ids))
        .order_by(EventRow.id)
    )
    edges = []
    for artifact_id, execution_id, event_type in rows:
        a, e = node_key("artifact", artifact_id), node_key("execution", execution_id)
        if event_type == "INPUT":
            edges.append(LineageEdge(source=a, target=e, type="INPUT"))
        else:
            edges.append(LineageEdge(source=e, target=a, type="OUTPUT"))
    return edges
