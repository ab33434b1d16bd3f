"""Feast's online key/value codec, written with `struct` instead of protos: the entity key
(serialization version 3, then the project name) and `ValueProto` values, decoded straight
from the wire bytes for the scalar types features almost always have."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Any

import numpy as np
from feast.protos.feast.types.Value_pb2 import Value as ValueProto

from ...errors import InvalidArgument
from .snapshot import ViewSpec

_STRING, _INT32, _INT64 = 2, 3, 4


def encode_value(join_key: str, value_type: int, value: Any) -> tuple[int, bytes]:
    if value_type in (_INT64, _INT32):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(
                f"entity {join_key!r} takes integers, not {value!r}", details={"entity": join_key}
            )
        if value_type == _INT64:
            if not -(2**63) <= value < 2**63:
                raise InvalidArgument(f"entity {join_key!r}: {value} is out of range")
            return _INT64, struct.pack("<q", value)
        if not -(2**31) <= value < 2**31:
            raise InvalidArgument(f"entity {join_key!r}: {value} is out of range")
        return _INT32, struct.pack("<i", value)
    if value_type == _STRING:
        if not isinstance(value, str):
            raise InvalidArgument(
                f"entity {join_key!r} takes strings, not {value!r}", details={"entity": join_key}
            )
        return _STRING, value.encode()
    raise InvalidArgument(f"entity {join_key!r} has a value type the online path cannot read")


def entity_key(
    view: ViewSpec, row: dict[str, Any], project: bytes, cache: dict[tuple[Any, ...], bytes]
) -> bytes:
    """Feast's `serialize_entity_key` (v3) + project, with struct instead of protos."""
    values = tuple(row[k] for k in view.join_keys)
    cached = cache.get((view.join_keys, values))
    if cached is not None:
        return cached
    parts = [struct.pack("<I", len(view.join_keys))]
    for k in view.join_keys:
        kb = k.encode()
        parts.append(struct.pack("<II", _STRING, len(kb)))
        parts.append(kb)
    for k, v in zip(view.join_keys, values, strict=True):
        value_type, vb = encode_value(k, view.key_types[k], v)
        parts.append(struct.pack("<II", value_type, len(vb)))
        parts.append(vb)
    parts.append(project)
    key = b"".join(parts)
    cache[(view.join_keys, values)] = key
    return key


_FLOAT = struct.Struct("<f").unpack_from
_DOUBLE = struct.Struct("<d").unpack_from


def _varint(raw: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = raw[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return result, pos
        shift += 7


def decode(raw: bytes) -> Any:
    """Decode a `ValueProto`. The scalar types features almost always have are read straight
    from the wire bytes (a tag byte, then the value) — no message object per value; anything
    else goes through protobuf."""
    tag = raw[0] if raw else 0
    if tag == 0x35 and len(raw) == 5:  # float_val
        return _FLOAT(raw, 1)[0]
    if tag == 0x29 and len(raw) == 9:  # double_val
        return _DOUBLE(raw, 1)[0]
    if tag in (0x20, 0x18, 0x40):  # int64_val, int32_val, unix_timestamp_val
        value, end = _varint(raw, 1)
        if end == len(raw):
            return value - (1 << 64) if value >= 1 << 63 else value
    elif tag == 0x12:  # string_val
        length, start = _varint(raw, 1)
        if start + length == len(raw):
            return raw[start:].decode()
    elif tag == 0x38 and len(raw) == 2:  # bool_val
        return raw[1] == 1
    proto = ValueProto.FromString(raw)
    which = proto.WhichOneof("val")
    if which is None or which == "null_val":
        return None
    value = getattr(proto, which)
    if which.endswith("_list_val"):
        return list(value.val)
    return value


_FLOATS = np.dtype([("tag", "u1"), ("value", "<f4")])
_DOUBLES = np.dtype([("tag", "u1"), ("value", "<f8")])


def decode_column(raws: list[bytes | None], n: int) -> list[Any] | None:
    """A whole column of float or double values decoded in one numpy call; None when the
    column is anything else (then each value is decoded on its own)."""
    try:
        joined = b"".join(raws)  # type: ignore[arg-type]
    except TypeError:
        return None  # a missing value
    if len(joined) == 5 * n and joined[::5] == b"\x35" * n:
        return np.frombuffer(joined, dtype=_FLOATS)["value"].astype(np.float64).tolist()
    if len(joined) == 9 * n and joined[::9] == b"\x29" * n:
        return np.frombuffer(joined, dtype=_DOUBLES)["value"].tolist()
    return [decode(raw) for raw in raws]  # type: ignore[arg-type]


def seconds_of(ts: Any) -> float | None:
    """Feast reports "no value" with the epoch as timestamp: that is no timestamp."""
    if ts is None:
        return None
    if isinstance(ts, datetime):
        seconds = (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()
    elif isinstance(ts, int | float):
        seconds = float(ts)
    else:
        return None
    return seconds or None
