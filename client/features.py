"""`client.features`: online values for model servers, training sets for training code, and
the definitions and materialization that CI applies to a (remote) server."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .transport import Transport


@dataclass(frozen=True, slots=True)
class OnlineFeatures:
    """Column-wise answer: `values["view:feature"][i]` is entity row i's value."""

    values: dict[str, list[Any]]
    statuses: dict[str, list[str]]
    event_timestamps: dict[str, list[str | None]]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per entity row (what a model server usually wants)."""
        names = list(self.values)
        n = len(next(iter(self.values.values()), []))
        return [{name: self.values[name][i] for name in names} for i in range(n)]


class Features:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def apply(self, repo: str | Path) -> dict[str, Any]:
        """Register the Feast objects a repo folder declares, in this client's project.

        The repo's Python files are imported here, with Feast (needed where this runs); the
        server receives their definitions, applies them declaratively (objects no longer in
        the repo are removed), records changed views and sources in the lineage graph, and
        every server process sees them from the next request on.

        Raises:
            RepoError: the repo cannot be read (the reason is in the message).
            ApiError: the server refuses a definition (named in the message).
        """
        from .feast_repo import registry_of

        path = Path(repo)
        body = {"registry": registry_of(path), "source": str(path.resolve())}
        return self._t.call("PUT", "/api/v1/features/definitions", json=body)  # type: ignore[no-any-return]

    def materialize(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        incremental: bool = False,
        views: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Load values from the sources into the online store: from `start` to `end` (default
        now), or `incremental`ly from where the last materialization stopped."""
        body: dict[str, Any] = {"incremental": incremental}
        if start is not None:
            body["start"] = start.isoformat()
        if end is not None:
            body["end"] = end.isoformat()
        if views:
            body["views"] = list(views)
        return self._t.call("POST", "/api/v1/features/materialize", json=body)  # type: ignore[no-any-return]

    def get_online(
        self,
        entities: Mapping[str, Sequence[Any]],
        *,
        features: Sequence[str] | None = None,
        feature_service: str | None = None,
    ) -> OnlineFeatures:
        """Latest values; a value older than its view's TTL is None with status
        OUTSIDE_MAX_AGE.

        Raises:
            ApiError: unknown features or entity keys (named in the message).
        """
        body: dict[str, Any] = {"entities": {k: list(v) for k, v in entities.items()}}
        if features is not None:
            body["features"] = list(features)
        if feature_service is not None:
            body["feature_service"] = feature_service
        out = self._t.call("POST", "/api/v1/features/online", json=body)
        names = out["metadata"]["feature_names"]
        results = out["results"]
        return OnlineFeatures(
            values={n: r["values"] for n, r in zip(names, results, strict=True)},
            statuses={n: r["statuses"] for n, r in zip(names, results, strict=True)},
            event_timestamps={
                n: r["event_timestamps"] for n, r in zip(names, results, strict=True)
            },
        )

    def get_historical(
        self,
        entity_rows: Any,
        *,
        features: Sequence[str] | None = None,
        feature_service: str | None = None,
        name: str = "training-set",
        full_feature_names: bool = False,
    ) -> Any:
        """A point-in-time correct training set as a pandas DataFrame (every entity row kept,
        in order), recorded on the server as a dataset artifact named `name`.

        `entity_rows`: a DataFrame or a mapping of columns, with the join keys and
        `event_timestamp`. Needs pandas and pyarrow (`pip install 'mlledger[data]'`).
        """
        import pandas as pd

        frame = entity_rows if isinstance(entity_rows, pd.DataFrame) else pd.DataFrame(entity_rows)
        columns: dict[str, list[Any]] = {}
        for column in frame.columns:
            series = frame[column]
            if pd.api.types.is_datetime64_any_dtype(series):
                columns[column] = [t.isoformat() for t in pd.to_datetime(series, utc=True)]
            else:
                columns[column] = series.tolist()
        body: dict[str, Any] = {
            "entity_rows": columns,
            "name": name,
            "full_feature_names": full_feature_names,
        }
        if features is not None:
            body["features"] = list(features)
        if feature_service is not None:
            body["feature_service"] = feature_service
        made = self._t.call("POST", "/api/v1/features/historical", json=body)
        raw = self._t.download(made["download"])
        result = pd.read_parquet(io.BytesIO(raw))
        result.attrs["mlledger_artifact"] = made["artifact"]
        return result
