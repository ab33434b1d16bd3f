"""Search by name across the graph (the explorer's search box)."""

from __future__ import annotations

from collections.abc import Sequence

from mlledger.store.database import Database
from mlledger.store.errors import InvalidArgument
from mlledger.store.metadata import search as store
from mlledger.store.metadata.search import Hit

from .principal import Principal


def search(db: Database, who: Principal, text: str, kinds: Sequence[str], limit: int) -> list[Hit]:
    """Raises:
    InvalidArgument: empty or overlong text, an unknown kind."""
    who.require("read")
    text = text.strip()
    if not 1 <= len(text) <= 256:
        raise InvalidArgument("search text must be 1 to 256 characters", details={"text": text})
    unknown = sorted(set(kinds) - set(store.KINDS))
    if unknown:
        raise InvalidArgument(
            f"unknown kind(s) {unknown}; use {', '.join(store.KINDS)}", details={"kinds": unknown}
        )
    with db.read() as session:
        return store.search(session, who.project_id, text, kinds, limit)
