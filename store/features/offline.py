"""Point-in-time training sets through Feast's offline store, keeping every entity row.

Feast's file (Dask) offline store drops entity rows that have no feature value inside the
view's TTL; a training set must keep them (with nulls), in the order given, or labels and
features drift apart silently. Each row is tagged before the join and put back after it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from feast import FeatureStore
from feast.errors import FeatureNameCollisionError

from ..errors import InvalidArgument

ROW = "__mlledger_row"


def historical(
    store: FeatureStore,
    entity_df: pd.DataFrame,
    refs: Sequence[tuple[str, str]],
    *,
    full_feature_names: bool = False,
) -> pd.DataFrame:
    """Every row of `entity_df` (in order) with the feature values as of its event_timestamp.

    Raises:
        InvalidArgument: no `event_timestamp` column, or timestamps that do not parse.
    """
    if "event_timestamp" not in entity_df.columns:
        raise InvalidArgument("entity rows need an event_timestamp column")
    frame = entity_df.copy()
    try:
        frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"event_timestamp: {exc}") from exc
    frame[ROW] = range(len(frame))
    features = [f"{view}:{name}" for view, name in refs]
    try:
        joined = store.get_historical_features(
            entity_df=frame, features=features, full_feature_names=full_feature_names
        ).to_df()
    except FeatureNameCollisionError as exc:
        raise InvalidArgument(
            f"{exc}".splitlines()[0] + " — set full_feature_names to name columns view__feature"
        ) from exc
    columns = [c for c in joined.columns if c not in frame.columns]
    result = frame.merge(joined[[ROW, *columns]], on=ROW, how="left", sort=False)
    return result.sort_values(ROW).drop(columns=[ROW]).reset_index(drop=True)
