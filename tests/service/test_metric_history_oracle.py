"""Metric history checked against a brute-force oracle: random batches (several keys per batch,
steps out of order and overlapping between batches, repeated (step, timestamp) pairs, NaN and
±Infinity, steps at both ends of int64) written through the store, and every read — whole,
windowed, downsampled — compared with Python computing the same answer from the list of points,
on SQLite and Postgres alike. Whatever layout the points are stored in, this says the answers
are the documented ones.

The oracle: points in (step, timestamp) order, ties in the order they were logged; downsampling
splits [first step, last step] into equal-width buckets (width ceil(span / max_points)) and
gives each non-empty bucket its first step, latest timestamp, and the mean, min and max of its
values with NaN left out (NaN when a bucket holds only NaN).
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from mlledger.store.database import Database
from mlledger.store.tracking import metrics, runs
from mlledger.store.tracking.runs import NewRun

Point = tuple[int, int, float, int]  # step, timestamp, value, logged order
INT64 = 2**63


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _oracle_buckets(
    points: list[Point], max_points: int
) -> list[tuple[int, int, float, float, float]]:
    lo, hi = points[0][0], points[-1][0]
    width = max(1, -(-(hi - lo + 1) // max_points))
    out: dict[int, list[Point]] = {}
    for p in points:
        out.setdefault((p[0] - lo) // width, []).append(p)
    buckets = []
    for b in sorted(out):
        ps = out[b]
        vals = [p[2] for p in ps if not math.isnan(p[2])]
        if not vals:
            mean = math.nan
        elif any(math.isinf(v) for v in vals):
            mean = sum(vals) / len(vals)  # inf, -inf, or nan when both: float arithmetic's
        else:
            mean = math.fsum(vals) / len(vals)
        buckets.append(
            (
                ps[0][0],
                max(p[1] for p in ps),
                mean,
                min(vals) if vals else math.nan,
                max(vals) if vals else math.nan,
            )
        )
    return buckets


def _write(db: Database, project_id: int, rng: random.Random) -> tuple[int, dict[str, list[Point]]]:
    with db.write() as session:
        run, _ = runs.create(
            session, project_id, NewRun(uuid=f"h-{rng.random()}", experiment="e", name="r")
        )
    logged: dict[str, list[Point]] = {"loss": [], "auc": [], "edge": []}
    order = 0
    for _ in range(rng.randint(3, 9)):
        n = rng.randint(1, 400)
        keys, values, steps, stamps = [], [], [], []
        base = rng.randint(0, 300)
        for _ in range(n):
            key = rng.choice(["loss", "loss", "auc"])
            step = base + rng.randint(-20, 60) if rng.random() < 0.9 else rng.randint(0, 5)
            stamp = rng.choice([1_000, 2_000, 1_500 + step])
            value = rng.choice(
                [rng.uniform(-1, 1), rng.uniform(-1, 1), math.nan, math.inf, -math.inf, 0.25]
            )
            keys.append(key)
            steps.append(step)
            stamps.append(stamp)
            values.append(value)
            logged[key].append((step, stamp, value, order))
            order += 1
        with db.write() as session:
            metrics.insert(session, run.id, keys, values, steps, stamps, experiment_id=None)
    # Steps at both ends of int64: the bucket width is 2**64 / max_points.
    edge_steps = [-INT64, INT64 - 1, 0, -5, 7]
    with db.write() as session:
        metrics.insert(
            session,
            run.id,
            ["edge"] * 5,
            [1.0, 2.0, 3.0, math.nan, 5.0],
            edge_steps,
            [1, 2, 3, 4, 5],
            experiment_id=None,
        )
    logged["edge"] = [
        (s, t, v, order + i)
        for i, (s, t, v) in enumerate(
            zip(edge_steps, [1, 2, 3, 4, 5], [1.0, 2.0, 3.0, math.nan, 5.0], strict=True)
        )
    ]
    for key in logged:
        logged[key].sort(key=lambda p: (p[0], p[1], p[3]))
    return run.id, logged


@pytest.mark.parametrize("seed", range(6))
def test_history_matches_the_oracle(db: Database, principal: Any, seed: int) -> None:
    rng = random.Random(seed)
    run_id, logged = _write(db, principal.project_id, rng)
    with db.read() as session:
        for key, points in logged.items():
            whole = metrics.history(session, run_id, key, max_points=1_000_000)
            assert not whole.downsampled and whole.total == len(points)
            assert whole.steps == [p[0] for p in points]
            assert whole.timestamps == [p[1] for p in points]
            assert all(map(_same, whole.values, [p[2] for p in points]))

            lo, hi = sorted(rng.choice(points)[0] for _ in range(2))
            inside = [p for p in points if lo <= p[0] <= hi]
            part = metrics.history(session, run_id, key, max_points=10**6, min_step=lo, max_step=hi)
            assert part.steps == [p[0] for p in inside] and part.total == len(inside)
            assert all(map(_same, part.values, [p[2] for p in inside]))
            if hi < INT64 - 1:
                above = metrics.history(session, run_id, key, max_points=10**6, min_step=hi + 1)
                assert above.steps == [p[0] for p in points if p[0] > hi]

            for max_points in (2, 3, 17):
                if len(points) <= max_points:
                    continue
                got = metrics.history(session, run_id, key, max_points=max_points)
                want = _oracle_buckets(points, max_points)
                assert got.downsampled and got.total == len(points)
                assert got.steps == [b[0] for b in want]
                assert got.timestamps == [b[1] for b in want]
                assert got.mins is not None and got.maxs is not None
                for g, m, x, b in zip(got.values, got.mins, got.maxs, want, strict=True):
                    assert _same(g, b[2]) and _same(m, b[3]) and _same(x, b[4]), (g, m, x, b)


def test_history_of_a_series_never_written_is_empty(db: Database, principal: Any) -> None:
    with db.write() as session:
        run, _ = runs.create(
            session, principal.project_id, NewRun(uuid="h-none", experiment="e", name="r")
        )
    with db.read() as session:
        h = metrics.history(session, run.id, "nothing", max_points=10)
    assert (h.steps, h.values, h.total, h.downsampled) == ([], [], 0, False)
