"""Feast's materialization into the online store, its failures as the store's errors: an
unreachable Redis is Unavailable (retry later), a source file that is missing or not what the
view declares is FailedPrecondition (fix the data, then retry)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa
from feast import FeatureStore
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..errors import FailedPrecondition, Unavailable


def materialize(
    store: FeatureStore, views: Sequence[str], *, start: datetime | None, end: datetime
) -> None:
    """Load `views` from their sources up to `end`: from `start`, or incrementally from
    where the last materialization of each view stopped (`start` None)."""
    names = list(views)
    try:
        if start is None:
            store.materialize_incremental(end_date=end, feature_views=names)
        else:
            store.materialize(start_date=start, end_date=end, feature_views=names)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise Unavailable(f"the online store is unreachable: {exc}") from exc
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        # The sources' files: missing, unreadable, or not what the view declares.
        text = (str(exc).strip().splitlines() or [""])[0][:500]
        raise FailedPrecondition(
            f"materialization failed reading the sources: {type(exc).__name__}: {text}",
            details={"feature_views": names},
        ) from exc
