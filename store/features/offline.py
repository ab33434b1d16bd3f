"""Point-in-time training sets: every entity row kept, joined with DuckDB's ASOF JOIN.

Feast's file (Dask) offline store drops entity rows that have no feature value inside the
view's TTL, and holds the whole join in memory. A training set must keep every row (with
nulls), in the order given, or labels and features drift apart silently — and it should not
need a machine sized for the feature table. So views whose batch source is a local Parquet
`FileSource` are joined by DuckDB straight from the files, one ASOF JOIN per view, streaming
to Parquet; any other source goes through Feast's own offline store, with rows tagged before
the join and put back after it. Both follow Feast's rules: a value counts when its event time
is within [entity time - TTL, entity time] (no lower bound without a TTL), and among rows with
the same entity and event time the latest `created_timestamp_column` wins, then the latest
row in the file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from feast import FeatureStore, FileSource
from feast.errors import FeatureNameCollisionError

from ..errors import InvalidArgument

log = logging.getLogger(__name__)

ROW = "__mlledger_row"
_ETS = "__mlledger_ets"


@dataclass(frozen=True, slots=True)
class _Scan:
    """What the ASOF JOIN of one view needs to know about its Parquet source."""

    view: str
    files: str  # a path or a glob for read_parquet
    timestamp: str
    created: str | None
    keys: dict[str, str]  # join key -> source column
    features: dict[str, str]  # feature -> source column
    ttl_ns: int  # 0: no limit


def historical(
    store: FeatureStore,
    entity_df: pd.DataFrame,
    refs: Sequence[tuple[str, str]],
    *,
    full_feature_names: bool = False,
    out: Path,
    engine: Literal["auto", "feast"] = "auto",
) -> pa.Schema:
    """Write every row of `entity_df` (in order) with the feature values as of its
    event_timestamp to the Parquet file `out`; returns the file's schema. `engine="feast"`
    forces Feast's offline store (the path remote sources take).

    Raises:
        InvalidArgument: no `event_timestamp` column, timestamps that do not parse, two
            features with one output name, or entity values that cannot meet the source's.
    """
    if "event_timestamp" not in entity_df.columns:
        raise InvalidArgument("entity rows need an event_timestamp column")
    frame = entity_df.copy()
    try:
        frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"event_timestamp: {exc}") from exc
    if frame["event_timestamp"].isna().any():
        raise InvalidArgument("event_timestamp has empty values")
    names = _output_names(refs, full_feature_names, frame.columns)
    scans = _scans(store, refs) if engine == "auto" else None
    if scans is None:
        table = _through_feast(store, frame, refs, full_feature_names)
        pq.write_table(table, out)
        return table.schema
    return _asof(frame, refs, names, scans, out)


@dataclass(frozen=True, slots=True)
class TrainingFile:
    columns: list[str]
    rows: int


def training_file(
    store: FeatureStore,
    entity_rows: dict[str, list[Any]],
    refs: Sequence[tuple[str, str]],
    *,
    full_feature_names: bool,
    out: Path,
) -> TrainingFile:
    """`historical` for entity rows given as columns (a request's), with what was written.

    Raises:
        InvalidArgument: columns of different or zero length, and as `historical`.
    """
    lengths = {len(v) for v in entity_rows.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise InvalidArgument("entity_rows needs columns of one same, non-zero length")
    schema = historical(
        store, pd.DataFrame(entity_rows), refs, full_feature_names=full_feature_names, out=out
    )
    return TrainingFile(schema.names, pq.read_metadata(out).num_rows)


def _output_names(
    refs: Sequence[tuple[str, str]], full: bool, entity_columns: pd.Index
) -> list[str]:
    names = [f"{view}__{name}" if full else name for view, name in refs]
    clashes = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(entity_columns)))
    if clashes:
        raise InvalidArgument(
            f"feature names collide: {', '.join(clashes)} — set full_feature_names to name "
            "columns view__feature",
            details={"columns": clashes},
        )
    return names


def _scans(store: FeatureStore, refs: Sequence[tuple[str, str]]) -> dict[str, _Scan] | None:
    """A scan per view, or None when some view's source is not a local Parquet file."""
    scans: dict[str, _Scan] = {}
    for view_name in dict.fromkeys(v for v, _ in refs):
        fv = store.get_feature_view(view_name)
        source = fv.batch_source
        if not isinstance(source, FileSource) or fv.projection.join_key_map:
            return None
        path = Path(source.path)
        if "://" in source.path or not path.exists():
            return None
        files = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
        to_source = {feature: column for column, feature in source.field_mapping.items()}
        join_keys = [e.name for e in fv.entity_columns]
        scans[view_name] = _Scan(
            view=view_name,
            files=files,
            timestamp=source.timestamp_field,
            created=source.created_timestamp_column or None,
            keys={k: to_source.get(k, k) for k in join_keys},
            features={f.name: to_source.get(f.name, f.name) for f in fv.features},
            ttl_ns=int(fv.ttl.total_seconds() * 1e9) if fv.ttl else 0,
        )
    return scans


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _view_query(scan: _Scan, wanted: list[str], names: list[str]) -> str:
    keys = list(scan.keys.items())
    key_select = ", ".join(f"{_q(col)} AS {_q(k)}" for k, col in keys)
    feature_select = ", ".join(
        f"{_q(scan.features[f])} AS {_q(n)}" for f, n in zip(wanted, names, strict=True)
    )
    ts = f"epoch_ns({_q(scan.timestamp)})"
    order = f"epoch_ns({_q(scan.created)}) DESC NULLS LAST, " if scan.created else ""
    window = f"(SELECT min({_ETS}) - {scan.ttl_ns} FROM entities)" if scan.ttl_ns else None
    bounds = f"{ts} <= (SELECT max({_ETS}) FROM entities)" + (
        f" AND {ts} >= {window}" if window else ""
    )
    on = " AND ".join(f"e.{_q(k)} = s.{_q(k)}" for k, _ in keys)
    fresh = f"s.__ts >= e.{_ETS} - {scan.ttl_ns}" if scan.ttl_ns else "s.__ts IS NOT NULL"
    values = ", ".join(f"CASE WHEN {fresh} THEN s.{_q(n)} END AS {_q(n)}" for n in names)
    return f"""
        SELECT e.{ROW}, {values}
        FROM entities e ASOF LEFT JOIN (
            SELECT {key_select}, {ts} AS __ts, {feature_select}
            FROM read_parquet({_literal(scan.files)}, file_row_number = true)
            WHERE {bounds}
            QUALIFY row_number() OVER (
                PARTITION BY {", ".join(_q(col) for _, col in keys)}, {ts}
                ORDER BY {order}file_row_number DESC) = 1
        ) s ON {on} AND e.{_ETS} >= s.__ts
    """


def _asof(
    frame: pd.DataFrame,
    refs: Sequence[tuple[str, str]],
    names: list[str],
    scans: dict[str, _Scan],
    out: Path,
) -> pa.Schema:
    entities = pa.Table.from_pandas(frame, preserve_index=False)
    ets = pa.array(frame["event_timestamp"].dt.as_unit("ns").astype("int64").to_numpy())
    entities = entities.append_column(ROW, pa.array(range(len(frame)), pa.int64()))
    entities = entities.append_column(_ETS, ets)
    joins: list[str] = []
    columns = [f"e.{_q(c)}" for c in frame.columns]
    for i, (view, scan) in enumerate(scans.items()):
        mine = [
            (name, out_name) for (v, name), out_name in zip(refs, names, strict=True) if v == view
        ]
        joins.append(
            f"LEFT JOIN ({_view_query(scan, [n for n, _ in mine], [o for _, o in mine])}) v{i} "
            f"USING ({ROW})"
        )
        columns += [f"v{i}.{_q(o)}" for _, o in mine]
    query = f"SELECT {', '.join(columns)} FROM entities e {' '.join(joins)} ORDER BY e.{ROW}"
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("entities", entities)
        con.execute(f"COPY ({query}) TO {_literal(str(out))} (FORMAT parquet)")
    except (duckdb.BinderException, duckdb.ConversionException) as exc:
        raise InvalidArgument(f"the entity rows do not fit the feature sources: {exc}") from exc
    except duckdb.IOException as exc:
        raise InvalidArgument(f"a feature source cannot be read: {exc}") from exc
    finally:
        con.close()
    return pq.read_schema(out)


def _through_feast(
    store: FeatureStore,
    frame: pd.DataFrame,
    refs: Sequence[tuple[str, str]],
    full_feature_names: bool,
) -> pa.Table:
    frame = frame.copy()
    frame[ROW] = range(len(frame))
    features = [f"{view}:{name}" for view, name in refs]
    log.info("historical retrieval through Feast's offline store for %s", features)
    try:
        joined = store.get_historical_features(
            entity_df=frame, features=features, full_feature_names=full_feature_names
        ).to_df()
    except FeatureNameCollisionError as exc:
        raise InvalidArgument(str(exc).splitlines()[0]) from exc
    columns = [c for c in joined.columns if c not in frame.columns]
    result = frame.merge(joined[[ROW, *columns]], on=ROW, how="left", sort=False)
    result = result.sort_values(ROW).drop(columns=[ROW]).reset_index(drop=True)
    return pa.Table.from_pandas(result, preserve_index=False)
