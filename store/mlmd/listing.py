"""MLMD's ListOperationOptions: a page of nodes by filter, in an order, with page tokens.

A page token is the last row's sort key with the options it was made under, so a changed
query cannot continue another's pages. CREATE_TIME orders by id: ids are given out in the
order nodes are made (MLMD breaks equal times by id the same way).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from ..errors import InvalidArgument
from .filters import compile_filter
from .nodes import Columns, Node, TypeKind, base_query, columns, run_query

MAX_PAGE = 100
MAX_UNPAGED = 20_000  # a request without options: all matches, up to this many


@dataclass
class ListOptions:
    """MLMD's ListOperationOptions. A request without them gets every match, as from MLMD's
    server (its client asks so for `get_artifacts_by_type` and expects them all): `unpaged`."""

    unpaged: bool = False
    max_result_size: int = 20
    order_field: int = 3  # FIELD_UNSPECIFIED 0, CREATE_TIME 1, LAST_UPDATE_TIME 2, ID 3
    is_asc: bool = True
    page_token: str | None = None
    filter_query: str | None = None


def _fingerprint(options: ListOptions) -> str:
    text = f"{options.order_field}|{options.is_asc}|{options.filter_query or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(options: ListOptions, key: list[int]) -> str:
    payload = json.dumps({"q": _fingerprint(options), "k": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _from_token(options: ListOptions, size: int) -> list[int] | None:
    if not options.page_token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(options.page_token.encode("ascii")))
        key = payload["k"]
        ok = (
            payload["q"] == _fingerprint(options)
            and isinstance(key, list)
            and len(key) == size
            and all(isinstance(k, int) and not isinstance(k, bool) and abs(k) < 2**63 for k in key)
        )
    except (ValueError, KeyError, TypeError, UnicodeError):
        ok = False
    if not ok:
        raise InvalidArgument(
            "next_page_token is not one this query made; send the token of its previous page "
            "with the same order and filter"
        )
    return key  # type: ignore[no-any-return]


def list_nodes(
    session: Session,
    project_id: int,
    kind: TypeKind,
    kind_types: Mapping[tuple[str, str], int],
    options: ListOptions,
    where: Callable[[Columns], list[ColumnElement[bool]]] | None = None,
) -> tuple[list[Node], str | None]:
    """One page, and the token of the next (None on the last)."""
    if options.max_result_size < 1:
        raise InvalidArgument("max_result_size must be at least 1")
    size = MAX_UNPAGED if options.unpaged else min(options.max_result_size, MAX_PAGE)
    cols = columns(kind, kind_types)
    query = base_query(cols, project_id)
    for condition in where(cols) if where else ():
        query = query.where(condition)
    if options.filter_query:
        query = query.where(compile_filter(options.filter_query, cols, kind_types))
    ident = cols.base.id
    by_update = options.order_field == 2
    updated = func.coalesce(cols.node.updated_ms, 0)
    key = _from_token(options, 2 if by_update else 1)
    asc = options.is_asc
    if key is not None:
        if by_update:
            after = (updated > key[0]) if asc else (updated < key[0])
            tie = (ident > key[1]) if asc else (ident < key[1])
            query = query.where(or_(after, and_(updated == key[0], tie)))
        else:
            query = query.where(ident > key[0] if asc else ident < key[0])
    order = [updated, ident] if by_update else [ident]
    query = query.order_by(*(c.asc() if asc else c.desc() for c in order)).limit(size + 1)
    nodes = run_query(session, kind, query)
    if len(nodes) <= size:
        return nodes, None
    if options.unpaged:  # refused, not cut: the caller asked for all of them
        raise InvalidArgument(
            f"more than {MAX_UNPAGED} {kind}s match; page through them with "
            "options.max_result_size and next_page_token"
        )
    nodes = nodes[:size]
    last = nodes[-1]
    assert last.id is not None
    next_key = [last.updated_ms if not last.native else 0, last.id] if by_update else [last.id]
    return nodes, _token(options, next_key)  # type: ignore[arg-type]


def find(
    session: Session,
    project_id: int,
    kind: TypeKind,
    kind_types: Mapping[tuple[str, str], int],
    where: Callable[[Columns], list[ColumnElement[bool]]],
    *,
    limit: int | None = None,
) -> list[Node]:
    """All nodes (or the first `limit`) meeting `where`, in id order."""
    cols = columns(kind, kind_types)
    query = base_query(cols, project_id)
    for condition in where(cols):
        query = query.where(condition)
    query = query.order_by(cols.base.id)
    if limit is not None:
        query = query.limit(limit)
    return run_query(session, kind, query)


def matching_ids(
    session: Session,
    project_id: int,
    kind: TypeKind,
    kind_types: Mapping[tuple[str, str], int],
    filter_query: str,
    limit: int,
) -> list[int]:
    """Ids of the nodes a filter_query matches (the starting nodes of a lineage query)."""
    cols = columns(kind, kind_types)
    from sqlalchemy import select

    query: Any = (
        select(cols.base.id)
        .select_from(cols.joined(cols.base))
        .where(cols.base.project_id == project_id)
        .where(compile_filter(filter_query, cols, kind_types))
        .order_by(cols.base.id)
        .limit(limit)
    )
    return list(session.scalars(query))
