"""Where a run search's next page starts, written as digits.

An offset makes page k cost k pages (the database walks and drops every row before it), so a
page 100,000 runs deep was 100,000 index entries. For the orders an index serves — newest
first, and one metric — the cursor is instead the last row's place in the order (keyset):
the next page starts there, whatever the depth, and rows inserted meanwhile do not shift it.
Other orders (several fields, params, attributes) keep offsets.

Both are digits, so any digit string a client makes up is a position, never an error (the
OpenAPI says so): 40 digits are a keyset position — one digit for the part of the order (runs
with the metric, then runs without it), twenty for the metric value as an order-preserving
unsigned integer, nineteen for the run's id; up to 19 digits are an offset; lengths between
are offsets past any result.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from ..errors import InvalidArgument

SEARCH_CURSOR_PATTERN = r"^[0-9]{1,40}$"
MAX_ID = 2**63 - 1
_U64 = 2**64 - 1
_SIGN = 1 << 63


@dataclass(frozen=True, slots=True)
class Offset:
    rows: int


@dataclass(frozen=True, slots=True)
class After:
    """After the run `id`, which had the metric at `value` (`value` None: among the runs
    without it, or in an order by id alone)."""

    value: float | None
    id: int


Position = Offset | After


def encode(position: Position) -> str:
    if isinstance(position, Offset):
        return str(position.rows)
    part, key = (2, 0) if position.value is None else (1, _order_key(position.value))
    return f"{part}{key:020d}{position.id:019d}"


def decode(cursor: str | None) -> Position | None:
    """The position to continue from, or None for the first page.

    Raises:
        InvalidArgument: the cursor is not digits.
    """
    if not cursor:
        return None
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 40):
        raise InvalidArgument(
            "cursor is not valid; pass the next_cursor of a previous page",
            details={"cursor": cursor[:100]},
        )
    if len(cursor) < 40:
        return Offset(min(int(cursor), MAX_ID))
    part, key, id_ = int(cursor[0]), int(cursor[1:21]), min(int(cursor[21:]), MAX_ID)
    return After(None if part >= 2 else _value(min(key, _U64)), id_)


def _order_key(value: float) -> int:
    """Unsigned integers in the order of the floats (IEEE 754 bits, negatives flipped)."""
    bits: int = struct.unpack(">Q", struct.pack(">d", value))[0]
    return bits ^ _U64 if bits & _SIGN else bits | _SIGN


def _value(key: int) -> float:
    bits = key ^ _SIGN if key & _SIGN else key ^ _U64
    value: float = struct.unpack(">d", struct.pack(">Q", bits))[0]
    if math.isnan(value):  # a made-up key past the infinities: the infinity on its side
        return math.inf if key & _SIGN else -math.inf
    return value
