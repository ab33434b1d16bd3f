"""Fresh values written to the online store through a Feast push source, as columns from a
request: typed by the view Feast finds behind the source, timestamps parsed as UTC."""

from __future__ import annotations

from typing import Any

import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode

from ..errors import InvalidArgument, NotFound

TIMESTAMPS = ("event_timestamp", "created")


def push(store: FeatureStore, source: str, rows: dict[str, list[Any]]) -> int:
    """Write `rows` (columns of one length) to the views fed by push source `source`; how
    many rows were written.

    Raises:
        InvalidArgument: columns of different or zero length, timestamps that do not parse,
            values the view refuses.
        NotFound: no such push source.
    """
    lengths = {len(v) for v in rows.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise InvalidArgument("rows needs columns of one same, non-zero length")
    try:
        store.get_data_source(source)
    except Exception as exc:  # Feast raises its own not-found types, by registry kind
        raise NotFound(
            f"push source {source!r} does not exist", details={"push_source": source}
        ) from exc
    frame = pd.DataFrame(rows)
    for column in TIMESTAMPS:
        if column in frame.columns:
            try:
                frame[column] = pd.to_datetime(frame[column], utc=True)
            except (ValueError, TypeError) as exc:
                raise InvalidArgument(f"{column}: {exc}") from exc
    try:
        store.push(source, frame, to=PushMode.ONLINE)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(f"push to {source!r} failed: {exc}") from exc
    return len(frame)
