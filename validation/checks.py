"""The TFDV work of a data gate: statistics, schema inference, anomalies, drift and skew.

Runs in the validator environment only (TensorFlow Data Validation 1.16); it receives and
returns serialized protos, which the service reads with tensorflow-metadata alone.

Statistics are computed in memory for small data (`generate_statistics_from_dataframe`) and
by an Apache Beam pipeline for large data or on request — DirectRunner by default; any Beam
runner through a worker's runner profile (reading.Profile: the operator's configuration, never
a job's). The paths given here were already checked against the worker's data roots.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from .reading import DIRECT, DataError, Profile

IN_MEMORY_ROWS = 1_000_000


@dataclass(frozen=True)
class Outcome:
    statistics: bytes
    anomalies: bytes
    inferred_schema: bytes | None  # set when no schema existed yet


def data_format(uri: str, declared: str | None) -> str:
    fmt = (declared or Path(urlsplit(uri).path).suffix.lstrip(".")).lower()
    if fmt not in ("parquet", "csv"):
        raise DataError(f"cannot validate {uri!r}: format {fmt or 'unknown'!r} (parquet or csv)")
    return fmt


def _frame(path: str, fmt: str) -> pd.DataFrame:
    try:
        if fmt == "parquet":
            return _plain(pq.read_table(path)).to_pandas()
        return pd.read_csv(path)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except (pa.ArrowInvalid, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not a readable {fmt} file: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty") from exc


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns (pandas categoricals; the `date=…` partition of a directory
    such as a served-feature log) as plain values: TFDV cannot take them."""
    columns = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _rows(path: str, fmt: str) -> int | None:
    if fmt != "parquet" or not os.path.isfile(path):
        return None
    try:
        return pq.read_metadata(path).num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path} is not a readable parquet file: {exc}") from exc


def statistics(
    path: str,
    fmt: str,
    *,
    beam: bool | None = None,
    profile: Profile = Profile(DIRECT),
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics of one dataset (a local path or a remote URL Beam/pyarrow can read);
    `beam=None` picks Beam above IN_MEMORY_ROWS rows."""
    rows = _rows(path, fmt)
    use_beam = beam if beam is not None else (rows is not None and rows > IN_MEMORY_ROWS)
    options = tfdv.StatsOptions()
    if not use_beam:
        frame = _frame(path, fmt)
        if frame.empty:
            raise DataError(f"{path} has no rows")
        return tfdv.generate_statistics_from_dataframe(frame, stats_options=options)
    if rows == 0:
        raise DataError(f"{path} has no rows")
    return _beam_statistics(path, fmt, options, profile)


def _beam_statistics(
    path: str, fmt: str, options: Any, profile: Profile
) -> statistics_pb2.DatasetFeatureStatisticsList:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    pipeline_options = PipelineOptions([f"--runner={profile.runner}", *profile.options])
    if fmt == "csv":
        return tfdv.generate_statistics_from_csv(
            data_location=path, stats_options=options, pipeline_options=pipeline_options
        )
    with tempfile.TemporaryDirectory(prefix="mlledger-stats-") as tmp:
        output = os.path.join(tmp, "stats.pb")
        with beam.Pipeline(options=pipeline_options) as p:
            _ = (
                p
                | "Read" >> beam.io.ReadFromParquetBatched(path)
                | "Batches"
                >> beam.FlatMap(lambda table: [_as_lists(b) for b in table.to_batches()])
                | "Statistics" >> tfdv.GenerateStatistics(options)
                | "Write" >> tfdv.WriteStatisticsToBinaryFile(output)
            )
        return tfdv.load_stats_binary(output)


def _as_lists(batch: pa.RecordBatch) -> pa.RecordBatch:
    """TFDV's Beam stages expect every column as a list per row (as tf.Examples give); a
    Parquet column of scalars becomes lists of one value, a null a null list."""
    offsets = pa.array(np.arange(batch.num_rows + 1, dtype=np.int32))
    columns = [
        pa.ListArray.from_arrays(offsets, column, mask=column.is_null())
        if not pa.types.is_list(column.type)
        else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, batch.schema.names)


def apply_thresholds(schema: schema_pb2.Schema, thresholds: dict[str, Any]) -> None:
    """Drift (`drift`) and skew (`skew`) comparators per feature: L-infinity for categorical
    features, Jensen-Shannon divergence for numeric ones (TFDV's own choice of measure).

    thresholds = {"drift": {"default": 0.1, "features": {"country": 0.05}}, "skew": {...}}
    A feature the schema already gives a comparator keeps it (a curated schema wins).
    """
    for which in ("drift", "skew"):
        spec = thresholds.get(which) or {}
        default = spec.get("default")
        per_feature = spec.get("features") or {}
        for feature in schema.feature:
            bound = per_feature.get(feature.name, default)
            if bound is None:
                continue
            comparator = feature.drift_comparator if which == "drift" else feature.skew_comparator
            if comparator.HasField("infinity_norm") or comparator.HasField(
                "jensen_shannon_divergence"
            ):
                continue
            categorical = feature.type == schema_pb2.BYTES or feature.HasField("string_domain")
            if categorical:
                comparator.infinity_norm.threshold = float(bound)
            else:
                comparator.jensen_shannon_divergence.threshold = float(bound)


def validate(
    stats: statistics_pb2.DatasetFeatureStatisticsList,
    *,
    schema: bytes | None,
    environment: str | None,
    previous: bytes | None,
    serving: statistics_pb2.DatasetFeatureStatisticsList | None,
    thresholds: dict[str, Any],
) -> Outcome:
    inferred = None
    if schema is None:
        parsed = tfdv.infer_schema(stats)
        # TFX's convention: every feature in both; a curator marks a label
        # `not_in_environment: "SERVING"`.
        parsed.default_environment.extend(["TRAINING", "SERVING"])
        inferred = parsed.SerializeToString()
    else:
        parsed = schema_pb2.Schema.FromString(schema)
    apply_thresholds(parsed, thresholds)
    prev = statistics_pb2.DatasetFeatureStatisticsList.FromString(previous) if previous else None
    anomalies: anomalies_pb2.Anomalies = tfdv.validate_statistics(
        stats,
        parsed,
        environment=environment or None,
        previous_statistics=prev,
        serving_statistics=serving,
    )
    return Outcome(stats.SerializeToString(), anomalies.SerializeToString(), inferred)
