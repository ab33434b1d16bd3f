"""Keyset cursors: stable under concurrent inserts, unlike offsets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from ..entities import Page
from ..errors import InvalidArgument

T = TypeVar("T")


MAX_POSITION = 2**63 - 1
# Every string of this form is a position (an id to continue below, or a search offset), so a
# cursor a client made up is a page like any other, never an error; the OpenAPI says so.
CURSOR_PATTERN = r"^[0-9]{1,19}$"


def encode_cursor(position: int) -> str:
    return str(position)


def decode_cursor(cursor: str | None) -> int | None:
    """The position to continue from, or None for the first page.

    Raises:
        InvalidArgument: the cursor is not a decimal position.
    """
    if not cursor:
        return None
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 19):
        raise InvalidArgument(
            "cursor is not valid; pass the next_cursor of a previous page",
            details={"cursor": cursor[:100]},
        )
    return min(int(cursor), MAX_POSITION)


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
