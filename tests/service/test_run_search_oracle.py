"""Run search checked against a brute-force oracle: random runs (params, tags, metrics, NaN,
missing keys, ended and running), random filters and orders from the whole language, and the
server's answer compared with Python evaluating the same filter over every run — on SQLite
and Postgres alike, page by page. Whatever indexes or side tables search uses, this says the
answers did not change.

The oracle is SQL's semantics written out: a param or tag a run lacks is unknown (NULL), so a
comparison with it is neither true nor false and `not` keeps it unknown; a metric condition is
`exists(latest value matching)`, always true or false; NaN matches no comparison; `like` is
case-sensitive, `ilike` not; orders put missing values last, then newest first.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

PARAM_VALUES = ["0.1", "0.01", "adam", "sgd", "3", "10", "Adam"]
TAG_VALUES = ["risk", "growth", "Risk", "ops"]
METRICS = ["auc", "loss", "f1"]
N_RUNS = 60


@dataclass
class R:
    """A run as the oracle sees it."""

    name: str
    id: int = 0
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # latest values; NaN allowed
    state: str = "running"


Truth = bool | None  # SQL's three values: None is unknown


def _and(a: Truth, b: Truth) -> Truth:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: Truth, b: Truth) -> Truth:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _not(a: Truth) -> Truth:
    return None if a is None else not a


def _like(pattern: str, value: str, *, fold: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S | (re.I if fold else 0)) is not None


Cond = Callable[[R], Truth]


def _string_term(section: str, key: str, op: str, values: list[str]) -> Cond:
    def get(r: R) -> str | None:
        if section == "attributes":
            return {"name": r.name, "state": r.state}[key]
        return (r.params if section == "params" else r.tags).get(key)

    def test(r: R) -> Truth:
        v = get(r)
        if op == "is null":
            return v is None
        if op == "is not null":
            return v is not None
        if v is None:
            return None
        return {
            "=": lambda: v == values[0],
            "!=": lambda: v != values[0],
            "in": lambda: v in values,
            "not in": lambda: v not in values,
            "like": lambda: _like(values[0], v, fold=False),
            "ilike": lambda: _like(values[0], v, fold=True),
        }[op]()

    return test


def _metric_term(key: str, op: str, numbers: list[float]) -> Cond:
    def test(r: R) -> Truth:
        if op == "is null":
            return key not in r.metrics
        if op == "is not null":
            return key in r.metrics
        v = r.metrics.get(key)
        if v is None or math.isnan(v):
            return False  # exists(...) over no row, or a NULL (NaN) value
        return {
            "=": v == numbers[0],
            "!=": v != numbers[0],
            "<": v < numbers[0],
            "<=": v <= numbers[0],
            ">": v > numbers[0],
            ">=": v >= numbers[0],
            "in": v in numbers,
            "not in": v not in numbers,
        }[op]

    return test


def _quote(value: str, rng: random.Random) -> str:
    return f'"{value}"' if rng.random() < 0.5 else f"'{value}'"


def random_term(rng: random.Random) -> tuple[str, Cond]:
    kind = rng.choice(["metric", "metric", "param", "tag", "attr"])
    if kind == "metric":
        key = rng.choice(METRICS)
        op = rng.choice(["<", "<=", ">", ">=", "=", "!=", "in", "not in", "is null", "is not null"])
        if op in ("is null", "is not null"):
            return f"metrics.{key} {op}", _metric_term(key, op, [])
        numbers = [round(rng.random(), 1) for _ in range(rng.randint(1, 3) if "in" in op else 1)]
        text = f"({', '.join(map(str, numbers))})" if "in" in op else str(numbers[0])
        return f"metrics.{key} {op} {text}", _metric_term(key, op, numbers)
    section, key, pool = {
        "param": ("params", rng.choice(["lr", "optimizer", "depth"]), PARAM_VALUES),
        "tag": ("tags", rng.choice(["team", "owner"]), TAG_VALUES),
        "attr": ("attributes", rng.choice(["name", "state"]), ["r1", "r2", "complete", "failed"]),
    }[kind]
    op = rng.choice(["=", "!=", "in", "not in", "like", "ilike", "is null", "is not null"])
    if section == "attributes" and op in ("is null", "is not null"):
        op = "="
    if op in ("is null", "is not null"):
        return f"{section}.{key} {op}", _string_term(section, key, op, [])
    if op in ("like", "ilike"):
        pattern = rng.choice(["%a%", "a%", "%sk", "r_sk", "0.%", "R%"])
        return f"{section}.{key} {op} {_quote(pattern, rng)}", _string_term(
            section, key, op, [pattern]
        )
    values = rng.sample(pool, rng.randint(1, 3) if "in" in op else 1)
    text = (
        f"({', '.join(_quote(v, rng) for v in values)})" if "in" in op else _quote(values[0], rng)
    )
    return f"{section}.{key} {op} {text}", _string_term(section, key, op, values)


def random_filter(rng: random.Random, depth: int = 0) -> tuple[str, Cond]:
    roll = rng.random()
    if depth >= 2 or roll < 0.4:
        return random_term(rng)
    if roll < 0.5:
        text, cond = random_filter(rng, depth + 1)
        return f"not ({text})", lambda r: _not(cond(r))
    (lt, lc), (rt, rc) = random_filter(rng, depth + 1), random_filter(rng, depth + 1)
    if roll < 0.75:
        return f"({lt}) and ({rt})", lambda r: _and(lc(r), rc(r))
    return f"({lt}) or ({rt})", lambda r: _or(lc(r), rc(r))


def random_order(rng: random.Random) -> tuple[str | None, Callable[[list[R]], list[R]]]:
    """An order and the oracle's sort: missing (and NaN) last, then newest (highest id) first."""
    choice = rng.choice(["none", "metric", "metric", "param", "name"])
    direction = rng.choice(["asc", "desc"])
    if choice == "none":
        return None, lambda rs: sorted(rs, key=lambda r: -r.id)

    def value(r: R) -> Any:
        if choice == "metric":
            v = r.metrics.get("auc")
            return None if v is None or math.isnan(v) else v
        if choice == "param":
            return r.params.get("lr")
        return r.name

    def sort(rs: list[R]) -> list[R]:
        present = [r for r in rs if value(r) is not None]
        missing = [r for r in rs if value(r) is None]
        # Newest first among equals: sort by id desc, then stably by the value.
        present.sort(key=lambda r: -r.id)
        present.sort(key=value, reverse=direction == "desc")
        return present + sorted(missing, key=lambda r: -r.id)

    spec = {"metric": "metrics.auc", "param": "params.lr", "name": "attributes.name"}[choice]
    return f"{spec} {direction}", sort


def make_runs(client: TestClient, rng: random.Random) -> list[R]:
    runs: list[R] = []
    for i in range(N_RUNS):
        r = R(name=f"r{rng.randint(1, 4)}")
        for key in ("lr", "optimizer", "depth"):
            if rng.random() < 0.7:
                r.params[key] = rng.choice(PARAM_VALUES)
        for key in ("team", "owner"):
            if rng.random() < 0.6:
                r.tags[key] = rng.choice(TAG_VALUES)
        made = client.post(
            "/api/v1/runs",
            json={"experiment": "oracle", "name": r.name, "params": r.params, "tags": r.tags},
        )
        assert made.status_code == 201, made.text
        r.id, uuid = made.json()["id"], made.json()["uuid"]
        keys, values = [], []
        for key in METRICS:
            if rng.random() < 0.75:
                # Two steps: only the latest counts. Ties and NaN on purpose.
                last = rng.choice([round(rng.random(), 1), math.nan, 0.5])
                keys += [key, key]
                values += [rng.random(), last]
                r.metrics[key] = last
        if keys:
            wire = ["NaN" if math.isnan(v) else v for v in values]
            client.post(
                f"/api/v1/runs/{uuid}/metrics",
                json={
                    "keys": keys,
                    "values": wire,
                    "steps": [0, 1] * (len(keys) // 2),
                    "timestamps": [1, 2] * (len(keys) // 2),
                },
            ).raise_for_status()
        if rng.random() < 0.3:
            r.state = rng.choice(["complete", "failed"])
            client.patch(f"/api/v1/runs/{uuid}", json={"state": r.state}).raise_for_status()
        runs.append(r)
        assert i == len(runs) - 1
    return runs


def search(client: TestClient, filter: str, order: str | None, limit: int) -> list[int]:
    """Every page of the answer, by run id."""
    params: dict[str, Any] = {"experiment": "oracle", "filter": filter, "limit": limit}
    if order:
        params["order_by"] = order
    found: list[int] = []
    while True:
        page = client.get("/api/v1/runs", params=params)
        assert page.status_code == 200, (filter, order, page.text)
        body = page.json()
        found += [r["id"] for r in body["items"]]
        if not body["next_cursor"]:
            return found
        params["cursor"] = body["next_cursor"]


@pytest.mark.parametrize("seed", [1, 2])
def test_search_answers_what_brute_force_answers(client: TestClient, seed: int) -> None:
    rng = random.Random(seed)
    runs = make_runs(client, rng)
    for _ in range(80):
        text, cond = random_filter(rng)
        order, sort = random_order(rng)
        expected = [r.id for r in sort([r for r in runs if cond(r) is True])]
        got = search(client, text, order, limit=rng.choice([7, 25, 100]))
        assert got == expected, (text, order)
