"""The doors' identities of nodes: (system, kind, key) -> node id, per project.

An OpenLineage run id names an execution, a job (namespace, name) a context, a dataset
(namespace, name) an artifact of its series; `location` keys name a dataset series by the URI
of its data, so data OpenLineage reports and data a run or a feature view reads at the same
place are one series. The first node to claim a key keeps it (inserts never overwrite).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..tables import ExternalIdRow
from ..tables.base import utcnow
from . import bulk

MAX_KEY = 1024  # longer keys are not kept (a lookup by them finds nothing)


def find_many(
    session: Session, project_id: int, system: str, kind: str, keys: Sequence[str]
) -> dict[str, int]:
    wanted = sorted({k for k in keys if len(k) <= MAX_KEY})
    out: dict[str, int] = {}
    for part in bulk.chunks(wanted):
        rows = session.execute(
            select(ExternalIdRow.key, ExternalIdRow.node_id).where(
                ExternalIdRow.project_id == project_id,
                ExternalIdRow.system == system,
                ExternalIdRow.kind == kind,
                ExternalIdRow.key.in_(part),
            )
        )
        out.update({k: n for k, n in rows})
    return out


def find(session: Session, project_id: int, system: str, kind: str, key: str) -> int | None:
    return find_many(session, project_id, system, kind, [key]).get(key)


def claim_many(
    session: Session, project_id: int, system: str, kind: str, nodes: Mapping[str, int]
) -> None:
    """Record each key's node unless the key is already someone's."""
    rows = [
        {
            "project_id": project_id,
            "system": system,
            "kind": kind,
            "key": k,
            "node_id": n,
            "created_at": utcnow(),
        }
        for k, n in sorted(nodes.items())
        if len(k) <= MAX_KEY
    ]
    bulk.insert_ignoring(session, bulk.table_of(ExternalIdRow), rows)


def with_prefix(
    session: Session, project_id: int, system: str, kind: str, prefix: str, limit: int
) -> list[int]:
    """Nodes of the keys that start with `prefix` (a range of the primary key's kind)."""
    rows = session.scalars(
        select(ExternalIdRow.node_id)
        .where(
            ExternalIdRow.project_id == project_id,
            ExternalIdRow.system == system,
            ExternalIdRow.kind == kind,
            ExternalIdRow.key.startswith(prefix, autoescape=True),
        )
        .order_by(ExternalIdRow.node_id)
        .limit(limit)
    )
    return list(dict.fromkeys(rows))
