"""Metric points stored as chunks: one row per batch and key holding packed columns.

A row per point made the index, not the data, the cost of ingest: a 10,000-point COPY spent
most of its time maintaining two b-trees (about 300,000 points/s on the test machine). A chunk
is one row and one index entry for up to 10,000 points, so a batch costs about what moving its
bytes costs, and a 100,000-point history is ten rows to read.

The columns are little-endian int64 (steps, timestamps) and float64 (values) byte strings, the
same bytes on SQLite and Postgres; NaN and ±Infinity are stored as they are. Points inside a
chunk are in (step, timestamp) order (stable: ties keep the order they were logged in).
Chunks of one series may overlap in steps (a job that logs steps out of order, or two writers of
one run); a read merges them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

STEP = np.dtype("<i8")
VALUE = np.dtype("<f8")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One series' points of one batch, sorted, packed for a row. The last point is the
    batch's latest of the series (highest (step, timestamp), the last logged of equals)."""

    key: str
    first_step: int
    last_step: int
    last_timestamp: int
    last_value: float
    points: int
    steps: bytes
    timestamps: bytes
    values: bytes


@dataclass(frozen=True, slots=True)
class Series:
    """Points of one series in (step, timestamp) order, as arrays."""

    steps: IntArray
    timestamps: IntArray
    values: FloatArray


def pack(
    keys: Sequence[str],
    values: Sequence[float],
    steps: Sequence[int],
    timestamps: Sequence[int],
) -> list[Chunk]:
    """A batch's points as one chunk per key (in key order: concurrent writers of one run then
    touch the same keys in the same order)."""
    s = np.asarray(steps, dtype=STEP)
    t = np.asarray(timestamps, dtype=STEP)
    v = np.asarray(values, dtype=VALUE)
    first = keys[0]
    if all(k == first for k in keys):
        return [_chunk(first, s, t, v)]
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    out = []
    for k in sorted(groups):
        idx = np.asarray(groups[k], dtype=np.intp)
        out.append(_chunk(k, s[idx], t[idx], v[idx]))
    return out


def _chunk(key: str, s: IntArray, t: IntArray, v: FloatArray) -> Chunk:
    order = _order(s, t)
    if order is not None:
        s, t, v = s[order], t[order], v[order]
    return Chunk(
        key=key,
        first_step=int(s[0]),
        last_step=int(s[-1]),
        last_timestamp=int(t[-1]),
        last_value=float(v[-1]),
        points=len(s),
        steps=s.tobytes(),
        timestamps=t.tobytes(),
        values=v.tobytes(),
    )


def _order(s: IntArray, t: IntArray) -> npt.NDArray[np.intp] | None:
    """The permutation that sorts by (step, timestamp), stably; None when already sorted (a
    training loop's usual case, found in one pass)."""
    if len(s) < 2:
        return None
    ds = np.diff(s)
    if not ((ds < 0) | ((ds == 0) & (np.diff(t) < 0))).any():
        return None
    return np.lexsort((t, s))  # stable: equal (step, timestamp) keep their logged order


def little_endian(column: npt.NDArray[Any]) -> bytes:
    """The column's bytes in the stored (little-endian) order, whatever the machine's."""
    return column.astype(column.dtype.newbyteorder("<"), copy=False).tobytes()


def unpack(rows: Iterable[tuple[bytes, bytes, bytes]]) -> Series:
    """Stored chunks (in any order) as one sorted series."""
    parts = list(rows)
    if not parts:
        empty = np.empty(0, dtype=STEP)
        return Series(empty, empty.copy(), np.empty(0, dtype=VALUE))
    s = np.frombuffer(b"".join(p[0] for p in parts), dtype=STEP)
    t = np.frombuffer(b"".join(p[1] for p in parts), dtype=STEP)
    v = np.frombuffer(b"".join(p[2] for p in parts), dtype=VALUE)
    order = _order(s, t)
    if order is not None:
        s, t, v = s[order], t[order], v[order]
    return Series(s, t, v)


def window(series: Series, min_step: int | None, max_step: int | None) -> Series:
    """The points with min_step <= step <= max_step (either bound optional)."""
    lo = 0 if min_step is None else int(np.searchsorted(series.steps, min_step, side="left"))
    hi = (
        len(series.steps)
        if max_step is None
        else int(np.searchsorted(series.steps, max_step, side="right"))
    )
    if lo == 0 and hi == len(series.steps):
        return series
    return Series(series.steps[lo:hi], series.timestamps[lo:hi], series.values[lo:hi])


@dataclass(frozen=True, slots=True)
class Buckets:
    steps: IntArray  # each bucket's first step
    timestamps: IntArray  # ... and latest timestamp
    means: FloatArray  # NaN points left out; a bucket of only NaN is NaN
    mins: FloatArray
    maxs: FloatArray


def downsample(series: Series, max_points: int) -> Buckets:
    """At most `max_points` equal-width step buckets spanning the series' steps.

    Widths are computed in unsigned 64-bit arithmetic: steps span the whole int64 range, so
    `last - first + 1` can be 2**64."""
    s = series.steps
    lo, hi = int(s[0]), int(s[-1])
    width = max(1, -(-(hi - lo + 1) // max_points))
    offset = s.view(np.uint64) - np.uint64(lo % 2**64)
    bucket = offset // np.uint64(width)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    v = series.values
    missing = np.isnan(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        sums = np.add.reduceat(np.where(missing, 0.0, v), starts)
        counts = np.add.reduceat(~missing, starts)
        means = sums / counts
    return Buckets(
        steps=s[starts],
        timestamps=np.maximum.reduceat(series.timestamps, starts),
        means=np.where(counts == 0, np.nan, means),
        mins=np.fmin.reduceat(v, starts),
        maxs=np.fmax.reduceat(v, starts),
    )
