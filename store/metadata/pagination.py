"""Opaque keyset cursors: stable under concurrent inserts, unlike offsets."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from ..entities import Page
from ..errors import InvalidArgument

T = TypeVar("T")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id to continue before, or None for the first page.

    Raises:
        InvalidArgument: the cursor was not produced by this server.
    """
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        before = value["before"]
        if not isinstance(before, int) or isinstance(before, bool) or before < 0:
            raise ValueError(before)
        return before
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error) as exc:
        raise InvalidArgument(
            "cursor is not valid; pass the next_cursor of a previous page",
            details={"cursor": cursor[:100]},
        ) from exc


def keyset_page(
    session: Session,
    query: Select[Any],
    row_type: Any,
    *,
    limit: int,
    cursor: str | None,
    to_entity: Callable[[Any], T],
) -> Page[T]:
    """Newest first: rows of `query` with ids below the cursor's, one extra to know if more."""
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(row_type.id < before)
    rows = list(session.scalars(query.order_by(row_type.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[to_entity(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )
