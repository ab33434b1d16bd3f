"""Reading TFDV's protos in the service, with tensorflow-metadata alone (no TensorFlow).

The worker sends statistics, schemas and anomalies serialized by protobuf 4; the service parses
them with protobuf 6 — the wire format is the same. Here: the readable reasons of a verdict, a
schema as JSON, a schema parsed from text or JSON (a curated upload), and the diff of two
schemas, feature by feature.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, text_format
from google.protobuf.message import DecodeError
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from mlledger.store.errors import InvalidArgument

MESSAGES = {
    "schema": schema_pb2.Schema,
    "statistics": statistics_pb2.DatasetFeatureStatisticsList,
    "anomalies": anomalies_pb2.Anomalies,
}


def parse(kind: str, data: bytes) -> Any:
    try:
        return MESSAGES[kind].FromString(data)
    except DecodeError as exc:
        raise InvalidArgument(f"{kind}: not a serialized {MESSAGES[kind].__name__}") from exc


def to_json(kind: str, data: bytes) -> dict[str, Any]:
    return json_format.MessageToDict(parse(kind, data), preserving_proto_field_name=True)


def reasons(anomalies: bytes) -> tuple[str, list[dict[str, Any]]]:
    """(status, reasons): failed when any anomaly is an ERROR; warnings are listed but pass."""
    parsed = parse("anomalies", anomalies)
    found: list[dict[str, Any]] = []
    failed = parsed.data_missing
    if parsed.data_missing:
        found.append(
            {"feature": None, "kind": "DATA_MISSING", "severity": "ERROR", "message": "no data"}
        )
    infos = [(name, info) for name, info in sorted(parsed.anomaly_info.items())]
    if parsed.HasField("dataset_anomaly_info"):
        infos.append((None, parsed.dataset_anomaly_info))
    for feature, info in infos:
        severity = _name(anomalies_pb2.AnomalyInfo.Severity, info.severity)
        failed |= info.severity == anomalies_pb2.AnomalyInfo.ERROR
        kinds = [_name(anomalies_pb2.AnomalyInfo.Type, r.type) for r in info.reason] or ["UNKNOWN"]
        found.append(
            {
                "feature": feature,
                "kind": ", ".join(kinds),
                "severity": severity,
                "message": info.description or info.short_description,
            }
        )
    for skew in parsed.drift_skew_info:
        feature = "/".join(skew.path.step)
        for m in (*skew.drift_measurements, *skew.skew_measurements):
            if m.value > m.threshold:
                found.append(
                    {
                        "feature": feature,
                        "kind": _name(anomalies_pb2.DriftSkewInfo.Measurement.Type, m.type),
                        "severity": "INFO",
                        "message": f"measured {m.value:.4g} > threshold {m.threshold:.4g}",
                    }
                )
    return ("failed" if failed else "passed"), found


def _name(enum: Any, value: int) -> str:
    """An enum value's name; a number a newer TFDV added is shown as the number."""
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


def schema_from_upload(body: bytes, content_type: str) -> schema_pb2.Schema:
    """A curated schema: TFDV's text format (`tfdv.write_schema_text`), JSON, or binary."""
    schema = schema_pb2.Schema()
    try:
        if "json" in content_type:
            json_format.Parse(body.decode(), schema)
        elif content_type.startswith("text/"):
            text_format.Parse(body.decode(), schema)
        else:
            schema.ParseFromString(body)
    except (text_format.ParseError, json_format.ParseError, DecodeError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"not a tensorflow-metadata Schema: {e}") from e
    except RecursionError as e:
        raise InvalidArgument(
            f"the schema nests deeper than {MAX_NESTING} messages; struct features that deep "
            "are not a schema TFDV can use"
        ) from e
    if not schema.feature:
        raise InvalidArgument("the schema has no features")
    depth = _depth(schema)
    if depth > MAX_NESTING:
        raise InvalidArgument(
            f"the schema nests {depth} messages deep; at most {MAX_NESTING} (protobuf readers "
            "stop at 100, and TFDV's struct features never come close)"
        )
    # What is stored must read back, in both renderings the API offers.
    try:
        schema_pb2.Schema.FromString(schema.SerializeToString())
        json_format.MessageToDict(schema)
    except (DecodeError, RecursionError, ValueError) as e:
        raise InvalidArgument(f"the schema does not read back: {e}") from e
    return schema


MAX_NESTING = 40


def _depth(message: Any, level: int = 1) -> int:
    """How deep messages nest inside `message` (stops counting past MAX_NESTING)."""
    if level > MAX_NESTING:
        return level
    deepest = level
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        repeated = (
            field.is_repeated  # protobuf >= 6; `label` is deprecated there
            if hasattr(field, "is_repeated")
            else field.label == field.LABEL_REPEATED
        )
        children = value if repeated else [value]
        for child in children:
            if not hasattr(child, "ListFields"):  # a map's values
                continue
            deepest = max(deepest, _depth(child, level + 1))
            if deepest > MAX_NESTING:
                return deepest
    return deepest


def diff(base: bytes, head: bytes) -> list[dict[str, Any]]:
    """Changes from `base` to `head`, feature by feature (added, removed, changed fields), then
    the shared string domains (values added and removed) features refer to by name."""
    sa, sb = parse("schema", base), parse("schema", head)
    out = _diff_features(sa, sb)
    da = {d.name: list(d.value) for d in sa.string_domain}
    db = {d.name: list(d.value) for d in sb.string_domain}
    for name in sorted(da.keys() | db.keys()):
        before, after = da.get(name, []), db.get(name, [])
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        if name not in da or name not in db or added or removed:
            out.append(
                {
                    "string_domain": name,
                    "change": "added"
                    if name not in da
                    else "removed"
                    if name not in db
                    else "changed",
                    "added_values": added,
                    "removed_values": removed,
                }
            )
    return out


def _diff_features(sa: schema_pb2.Schema, sb: schema_pb2.Schema) -> list[dict[str, Any]]:
    a = {f.name: f for f in sa.feature}
    b = {f.name: f for f in sb.feature}
    out: list[dict[str, Any]] = []
    for name in sorted(a.keys() | b.keys()):
        if name not in a:
            out.append({"feature": name, "change": "added", "to": _fields(b[name])})
        elif name not in b:
            out.append({"feature": name, "change": "removed", "from": _fields(a[name])})
        else:
            before, after = _fields(a[name]), _fields(b[name])
            changed = {
                k: {"from": before.get(k), "to": after.get(k)}
                for k in sorted(before.keys() | after.keys())
                if before.get(k) != after.get(k)
            }
            if changed:
                out.append({"feature": name, "change": "changed", "fields": changed})
    return out


def _fields(feature: schema_pb2.Feature) -> dict[str, Any]:
    return json_format.MessageToDict(feature, preserving_proto_field_name=True)


def summary(statistics: bytes, *, top: int = 5) -> dict[str, Any]:
    """The first screen of TFDV's Facets view as plain data: per feature its type, how often it
    is missing, and its distribution in a few numbers (numeric) or its commonest values."""
    parsed = parse("statistics", statistics)
    if not parsed.datasets:
        return {"num_examples": 0, "features": []}
    dataset = parsed.datasets[0]
    features = []
    for f in dataset.features:
        name = ".".join(f.path.step) or f.name
        kind = _name(statistics_pb2.FeatureNameStatistics.Type, f.type)
        row: dict[str, Any] = {"name": name, "type": kind}
        if f.HasField("num_stats"):
            n = f.num_stats
            common = n.common_stats
            row |= {
                "mean": n.mean,
                "std_dev": n.std_dev,
                "min": n.min,
                "median": n.median,
                "max": n.max,
                "zeros": n.num_zeros,
            }
        elif f.HasField("string_stats"):
            s = f.string_stats
            common = s.common_stats
            row |= {
                "unique": s.unique,
                "top_values": [
                    {"value": v.value, "count": v.frequency} for v in s.top_values[:top]
                ],
            }
        else:
            common = None
        if common is not None:
            total = common.num_non_missing + common.num_missing
            row |= {
                "missing": common.num_missing,
                "missing_ratio": common.num_missing / total if total else 0.0,
            }
        features.append(row)
    return {"num_examples": dataset.num_examples, "features": features}
