"""The benchmark graph, shared by both sides: chains of steps, each step an execution that
consumes the previous output of its chain plus a fresh input, and writes one output
(3 nodes and 3 events a step, like MLMD's own put_execution benchmark)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    chain: int
    index: int  # position in the chain; 0 has no previous output


def steps(total_steps: int, chain_length: int) -> Iterator[Step]:
    """Chains are written round-robin in blocks, as independent pipelines would be."""
    chains = max(1, total_steps // chain_length)
    for index in range(chain_length):
        for chain in range(chains):
            if index * chains + chain >= total_steps:
                return
            yield Step(chain, index)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def lineage_latencies(
    query: Callable[[int, int], int], deep_ids: list[int], *, queries: int, warmup: int
) -> dict[int, dict[str, float]]:
    """Time `query(artifact_id, hops) -> node count` from random deep nodes, 5 and 20 hops.

    The first `warmup` calls of each depth are not timed (connections, prepared statements).
    """
    rng = random.Random(7)
    out: dict[int, dict[str, float]] = {}
    for hops in (5, 20):
        times, nodes = [], 0
        for i in range(warmup + queries):
            started = time.perf_counter()
            nodes = query(rng.choice(deep_ids), hops)
            if i >= warmup:
                times.append((time.perf_counter() - started) * 1000)
        out[hops] = {
            "p50_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95),
            "nodes": nodes,
        }
    return out
