"""The benchmark graph, shared by both sides: chains of steps, each step an execution that
consumes the previous output of its chain plus a fresh input, and writes one output
(3 nodes and 3 events a step, like MLMD's own put_execution benchmark)."""

from __future__ import annotations

from collections.abc import Iterator
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
