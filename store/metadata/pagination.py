"""Opaque keyset cursors: stable under concurrent inserts, unlike offsets."""

from __future__ import annotations

import base64
import binascii
import json

from ..errors import InvalidArgument


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
