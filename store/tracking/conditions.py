"""The search language's terms as SQLAlchemy conditions (filters.py parses; this builds):
metrics against `metric_latest`, params and tags against `run_field`'s indexed heads, datasets
through the run's INPUT edges, attributes against the run's columns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, exists, func, not_, select
from sqlalchemy.sql.expression import literal

from ..errors import InvalidArgument
from ..tables import ArtifactRow, EventRow, ExecutionRow, LatestMetricRow, RunFieldRow, RunRow
from ..tables.base import to_utc
from ..tables.tracking import HEAD

# The schemes of dataset fingerprints (client/fingerprint.py, and MLflow's digests as the MLflow
# door records them): `datasets.digest` compares with the part after the scheme.
DIGEST_SCHEMES = ("sha256", "meta-sha256", "mlflow-digest")


@dataclass(frozen=True, slots=True)
class Field:
    section: str  # metrics | params | tags | attributes
    key: str


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int


def error(text: str, pos: int, message: str) -> InvalidArgument:
    return InvalidArgument(
        f"filter: {message} at position {pos}", details={"filter": text, "position": pos}
    )


def _literal(text: str, tok: Token) -> Any:
    if tok.kind == "number":
        number = float(tok.text)
        if number != number or number in (float("inf"), float("-inf")):
            raise error(text, tok.pos, f"{tok.text} is not a finite number")
        return number
    body = tok.text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def compile_term(
    text: str,
    field: Field,
    op: str,
    value: Token | list[Token] | None,
    pos: int,
    negated: bool = False,
) -> ColumnElement[bool]:
    op = {"==": "=", "<>": "!="}.get(op, op)
    if field.section == "metrics":
        found = _metric(text, field.key, op, value, pos)
        return not_(found) if negated else found  # an exists(): never unknown
    kind = "string" if field.section in ("params", "tags", "datasets") else column_of(field)[1]
    literals: list[Any] = []
    if op not in {"is null", "is not null"}:
        for v in value if isinstance(value, list) else [value]:
            assert v is not None
            lit = _literal(text, v)
            if kind == "string" and not isinstance(lit, str):
                raise error(
                    text,
                    v.pos,
                    f"{field.section}.{field.key} holds strings: quote the value, "
                    f'e.g. {field.section}.{field.key} = "{v.text}"',
                )
            literals.append(_time(text, v, lit) if kind == "time" else lit)
        if op in {"like", "ilike"} and kind != "string":
            raise error(text, pos, f"{op} applies to strings, not {field.section}.{field.key}")
        if kind == "string" and op not in {"=", "!=", "in", "not in", "like", "ilike"}:
            raise error(
                text, pos, f"{field.section}.{field.key} is a string: use = != like ilike in"
            )
    if field.section in ("params", "tags"):
        return _field(field, op, literals, negated)
    if field.section == "datasets":
        return _dataset(text, field, op, literals, negated, pos)
    column = column_of(field)[0]
    found = _condition(column, op, literals)
    return not_(found) if negated else found  # SQL's NOT keeps unknown unknown, as it should


def _condition(column: Any, op: str, literals: list[Any]) -> ColumnElement[bool]:
    if op == "is null":
        return column.is_(None)  # type: ignore[no-any-return]
    if op == "is not null":
        return column.is_not(None)  # type: ignore[no-any-return]
    if op == "in":
        return column.in_(literals)  # type: ignore[no-any-return]
    if op == "not in":
        return column.not_in(literals)  # type: ignore[no-any-return]
    (lit,) = literals
    if op == "like":
        return column.like(lit)  # type: ignore[no-any-return]
    if op == "ilike":
        return func.lower(column).like(lit.lower())
    return _apply(column, op, lit)


_OPPOSITE = {"=": "!=", "!=": "=", "in": "not in", "not in": "in"}


def _field(field: Field, op: str, literals: list[Any], negated: bool) -> ColumnElement[bool]:
    """A param or tag comparison as a semi-join on `run_field` (its index has the statistics
    a JSON extraction lacks). A run without the key makes the comparison unknown: under a
    `not` it must still not match, so `not (params.lr = "0.1")` is "has lr, and it is not
    0.1" — exists(lr != 0.1) — as SQL's three-valued NOT of the original."""
    held = (
        (RunFieldRow.execution_id == ExecutionRow.id)
        # Redundant for the answer; it lets the planner carry the search's experiment into
        # the index (experiment, section, key, head), which leads with it.
        & (RunFieldRow.experiment_id == RunRow.experiment_id)
        & (RunFieldRow.section == field.section)
        & (RunFieldRow.key == field.key)
    )
    if op in {"is null", "is not null"}:
        present = exists().where(held)
        return ~present if (op == "is null") != negated else present
    if negated:
        if op in _OPPOSITE:
            op = _OPPOSITE[op]
        else:  # like / ilike
            return exists().where(held, not_(_condition(RunFieldRow.value, op, literals)))
    if op in {"=", "in"} and all(len(v) < HEAD for v in literals):
        # A value shorter than the head is equal to a stored one exactly when the head is
        # (a longer stored value has a head of full length): the index alone decides, and the
        # planner's estimate is the head's statistics, not a product of two correlated ones.
        return exists().where(held, _condition(RunFieldRow.head, op, literals))
    condition = _condition(RunFieldRow.value, op, literals)
    if op in {"=", "in"}:  # through the index: the head, then the whole value
        condition = _condition(RunFieldRow.head, op, [v[:HEAD] for v in literals]) & condition
    return exists().where(held, condition)


def _dataset(
    text: str, field: Field, op: str, literals: list[Any], negated: bool, pos: int
) -> ColumnElement[bool]:
    """`datasets.<name|digest|context>`: a semi-join on the run's INPUT edges to datasets. A
    comparison holds when some input dataset satisfies it; under a `not`, when none does."""
    if op in {"is null", "is not null"}:
        raise error(text, pos, f"datasets.{field.key} compares with = != in like, not {op}")
    column: Any
    if field.key == "name":
        column = ArtifactRow.name
    elif field.key == "context":
        column = EventRow.role
    else:
        if op not in {"=", "!=", "in", "not in"}:
            raise error(text, pos, f"datasets.digest compares with = != in, not {op}")
        column = ArtifactRow.fingerprint
        literals = [f"{scheme}:{v}" for v in literals for scheme in DIGEST_SCHEMES]
        op = {"=": "in", "!=": "not in"}.get(op, op)
    found = exists().where(
        EventRow.execution_id == ExecutionRow.id,
        EventRow.type == "INPUT",
        ArtifactRow.id == EventRow.artifact_id,
        ArtifactRow.kind == "dataset",
        _condition(column, op, literals),
    )
    return ~found if negated else found


def _apply(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    return {
        "=": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[op]


def column_of(field: Field) -> tuple[Any, str]:
    if field.section == "params":
        return cast(ExecutionRow.params[field.key].as_string(), String), "string"
    if field.section == "tags":
        return cast(RunRow.tags[field.key].as_string(), String), "string"
    return {
        "name": (ExecutionRow.name, "string"),
        "state": (ExecutionRow.state, "string"),
        "run_id": (RunRow.uuid, "string"),
        "started_at": (ExecutionRow.started_at, "time"),
        "ended_at": (ExecutionRow.ended_at, "time"),
    }[field.key]


def _time(text: str, tok: Token, value: Any) -> datetime:
    if isinstance(value, float):
        return datetime.fromtimestamp(value / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise error(text, tok.pos, f"{value!r} is not an ISO 8601 time") from None
    return to_utc(parsed)  # type: ignore[return-value]


def _metric(
    text: str, key: str, op: str, value: Token | list[Token] | None, pos: int
) -> ColumnElement[bool]:
    present = (
        (LatestMetricRow.execution_id == ExecutionRow.id)
        # Redundant for the answer (the row carries its run's experiment); it lets the planner
        # read the metric's range from (experiment, key, value, run) when that is cheaper than
        # probing run by run — a rare state with a rare value, newest first.
        & (LatestMetricRow.experiment_id == RunRow.experiment_id)
        & (LatestMetricRow.key == key)
    )
    if op == "is null":
        return ~exists().where(present)
    if op == "is not null":
        return exists().where(present)
    if op in {"like", "ilike"}:
        raise error(text, pos, f"{op} applies to strings; metrics.{key} is a number")
    values = value if isinstance(value, list) else [value]
    numbers = []
    for v in values:
        assert v is not None
        lit = _literal(text, v)
        if not isinstance(lit, float):
            raise error(
                text, v.pos, f"metrics.{key} is a number: compare it with a number, not {v.text}"
            )
        numbers.append(lit)
    column = LatestMetricRow.value
    condition: ColumnElement[bool]
    if op == "in":
        condition = column.in_(numbers)
    elif op == "not in":
        condition = column.not_in(numbers)
    else:
        condition = _apply(column, op, numbers[0])
    return exists(select(literal(1)).where(present, condition))
