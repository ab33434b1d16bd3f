"""The run search language, parsed into SQLAlchemy expressions (never into SQL text).

    metrics.auc > 0.9 and params.lr = "0.1" and (tags.team = 'risk' or tags.team is null)

Identifiers are `metrics.<key>`, `params.<key>`, `tags.<key>`, `attributes.<name>` (name,
state, run_id, started_at, ended_at) and `datasets.<name|digest|context>` (the run's input
datasets); a key with other characters goes in backticks. Metrics
compare with numbers (their latest value); params and tags are strings, as in MLflow. Operators:
= != < <= > >= like ilike in (...) not in (...) is null, is not null; and, or, not, parentheses.
Every mistake raises InvalidArgument naming the position and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, not_, or_, select
from sqlalchemy.sql.expression import literal

from ..errors import InvalidArgument
from ..tables import ArtifactRow, EventRow, ExecutionRow, LatestMetricRow, RunFieldRow, RunRow
from ..tables.base import to_utc
from ..tables.tracking import HEAD

MAX_LENGTH = 4000
MAX_TERMS = 64
MAX_NESTING = 32  # parentheses and `not`s: deeper is no real query, and recursion has a floor
# The keys params and tags may have (as the API stores them); a filter on any other key
# matches nothing, and must not reach a JSON path where a quote would break it.
_STORED_KEY = re.compile(r"^[\w\-. /:]+$")

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<ident>[A-Za-z_][\w]*\.(?:`[^`]+`|[\w\-/.:]+)|[A-Za-z_]\w*)
    | (?P<op><=|>=|!=|<>|==|=|<|>|\(|\)|,)
    )""",
    re.VERBOSE,
)
_SECTIONS = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
    "run": "attributes",
    "datasets": "datasets",
    "dataset": "datasets",
}
DATASET_KEYS = ("name", "digest", "context")
# The schemes of dataset fingerprints (client/fingerprint.py, and MLflow's digests as the MLflow
# door records them): `datasets.digest` compares with the part after the scheme.
DIGEST_SCHEMES = ("sha256", "meta-sha256", "mlflow-digest")
ATTRIBUTES = ("name", "state", "run_id", "started_at", "ended_at")
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "like", "ilike"}


@dataclass(frozen=True, slots=True)
class Field:
    section: str  # metrics | params | tags | attributes
    key: str


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    if len(text) > MAX_LENGTH:
        raise InvalidArgument(
            f"filter is {len(text)} characters; the limit is {MAX_LENGTH}",
            details={"length": len(text)},
        )
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise _error(text, start, f"unexpected character {text[start]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        start = m.start(kind)
        if kind == "ident" and value.lower() in _KEYWORDS:
            kind = "keyword"
            value = value.lower()
        tokens.append(_Tok(kind, value, start))
        pos = m.end()
    tokens.append(_Tok("end", "", len(text)))
    return tokens


def _error(text: str, pos: int, message: str) -> InvalidArgument:
    return InvalidArgument(
        f"filter: {message} at position {pos}", details={"filter": text, "position": pos}
    )


def parse_field(text: str, token: str, pos: int) -> Field:
    section, dot, key = token.partition(".")
    if not dot:
        if section.lower() in ATTRIBUTES:
            return Field("attributes", section.lower())
        raise _error(
            text,
            pos,
            f"{token!r} is not a field; use metrics.<key>, params.<key>, tags.<key> "
            f"or attributes.<{'|'.join(ATTRIBUTES)}>",
        )
    canonical = _SECTIONS.get(section.lower())
    if canonical is None:
        raise _error(
            text, pos, f"unknown section {section!r}; use metrics, params, tags or attributes"
        )
    if key.startswith("`"):
        key = key[1:-1]
    if canonical in ("params", "tags") and not _STORED_KEY.match(key):
        raise _error(
            text,
            pos,
            f"{canonical} keys are letters, digits and _ - . / : or space; {key!r} is none",
        )
    if canonical == "datasets" and key not in DATASET_KEYS:
        raise _error(
            text,
            pos,
            f"unknown dataset field {key!r}; datasets.name, datasets.digest or datasets.context "
            "(the input datasets a run read)",
        )
    if canonical == "attributes" and key not in ATTRIBUTES:
        raise _error(
            text, pos, f"unknown attribute {key!r}; attributes are {', '.join(ATTRIBUTES)}"
        )
    return Field(canonical, key)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.terms = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.i]

    def take(self, kind: str, text: str | None = None) -> _Tok | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def expect(self, kind: str, text: str | None, what: str) -> _Tok:
        t = self.take(kind, text)
        if t is None:
            found = "the end of the filter" if self.tok.kind == "end" else repr(self.tok.text)
            raise _error(self.text, self.tok.pos, f"expected {what}, found {found}")
        return t

    # Negations are pushed down to the comparisons (De Morgan, valid in SQL's three-valued
    # logic), so every comparison is compiled knowing whether it stands under a `not`. A
    # param or tag comparison can then be a semi-join on `run_field` — true or false, never
    # unknown — and still select exactly the runs the three-valued original selects: without
    # a `not` above it, unknown and false drop a run alike.

    def parse(self) -> ColumnElement[bool]:
        expr = self.or_expr(False)
        if self.tok.kind != "end":
            raise _error(
                self.text, self.tok.pos, f"expected 'and', 'or' or the end, found {self.tok.text!r}"
            )
        return expr

    def or_expr(self, negated: bool) -> ColumnElement[bool]:
        parts = [self.and_expr(negated)]
        while self.take("keyword", "or"):
            parts.append(self.and_expr(negated))
        if len(parts) == 1:
            return parts[0]
        return and_(*parts) if negated else or_(*parts)  # not (a or b) = not a and not b

    def and_expr(self, negated: bool) -> ColumnElement[bool]:
        parts = [self.not_expr(negated)]
        while self.take("keyword", "and"):
            parts.append(self.not_expr(negated))
        if len(parts) == 1:
            return parts[0]
        return or_(*parts) if negated else and_(*parts)

    def not_expr(self, negated: bool) -> ColumnElement[bool]:
        pos = self.tok.pos
        if self.take("keyword", "not"):
            with self._nested(pos):
                return self.not_expr(not negated)
        if self.take("op", "("):
            with self._nested(pos):
                expr = self.or_expr(negated)
            self.expect("op", ")", "')'")
            return expr
        return self.comparison(negated)

    @contextmanager
    def _nested(self, pos: int) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _error(self.text, pos, f"nested more than {MAX_NESTING} deep")
        try:
            yield
        finally:
            self.depth -= 1

    def comparison(self, negated: bool) -> ColumnElement[bool]:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise _error(self.text, self.tok.pos, f"more than {MAX_TERMS} comparisons")
        ident = self.expect("ident", None, "a field such as metrics.auc")
        field = parse_field(self.text, ident.text, ident.pos)
        op_tok = self.tok
        if self.take("keyword", "is"):
            negate = self.take("keyword", "not") is not None
            self.expect("keyword", "null", "'null'")
            null = "is not null" if negate else "is null"
            return _compile(self.text, field, null, None, op_tok.pos, negated)
        if self.take("keyword", "not"):
            self.expect("keyword", "in", "'in' after 'not'")
            return _compile(self.text, field, "not in", self.value_list(), op_tok.pos, negated)
        if self.take("keyword", "in"):
            return _compile(self.text, field, "in", self.value_list(), op_tok.pos, negated)
        if self.take("keyword", "like") or self.take("keyword", "ilike"):
            value = self.value()
            return _compile(self.text, field, op_tok.text, value, op_tok.pos, negated)
        op = self.expect("op", None, "a comparison operator (= != < <= > >= like in is)")
        if op.text in {"(", ")", ","}:
            raise _error(self.text, op.pos, f"expected a comparison operator, found {op.text!r}")
        return _compile(self.text, field, op.text, self.value(), op.pos, negated)

    def value(self) -> _Tok:
        t = self.take("number") or self.take("string")
        if t is None:
            found = "the end of the filter" if self.tok.kind == "end" else repr(self.tok.text)
            raise _error(
                self.text, self.tok.pos, f"expected a number or a quoted string, found {found}"
            )
        return t

    def value_list(self) -> list[_Tok]:
        self.expect("op", "(", "'(' to open the list")
        values = [self.value()]
        while self.take("op", ","):
            values.append(self.value())
        self.expect("op", ")", "')' to close the list")
        return values


def _literal(text: str, tok: _Tok) -> Any:
    if tok.kind == "number":
        number = float(tok.text)
        if number != number or number in (float("inf"), float("-inf")):
            raise _error(text, tok.pos, f"{tok.text} is not a finite number")
        return number
    body = tok.text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _compile(
    text: str,
    field: Field,
    op: str,
    value: _Tok | list[_Tok] | None,
    pos: int,
    negated: bool = False,
) -> ColumnElement[bool]:
    op = {"==": "=", "<>": "!="}.get(op, op)
    if field.section == "metrics":
        found = _metric(text, field.key, op, value, pos)
        return not_(found) if negated else found  # an exists(): never unknown
    kind = "string" if field.section in ("params", "tags", "datasets") else _column(field)[1]
    literals: list[Any] = []
    if op not in {"is null", "is not null"}:
        for v in value if isinstance(value, list) else [value]:
            assert v is not None
            lit = _literal(text, v)
            if kind == "string" and not isinstance(lit, str):
                raise _error(
                    text,
                    v.pos,
                    f"{field.section}.{field.key} holds strings: quote the value, "
                    f'e.g. {field.section}.{field.key} = "{v.text}"',
                )
            literals.append(_time(text, v, lit) if kind == "time" else lit)
        if op in {"like", "ilike"} and kind != "string":
            raise _error(text, pos, f"{op} applies to strings, not {field.section}.{field.key}")
        if kind == "string" and op not in {"=", "!=", "in", "not in", "like", "ilike"}:
            raise _error(
                text, pos, f"{field.section}.{field.key} is a string: use = != like ilike in"
            )
    if field.section in ("params", "tags"):
        return _field(field, op, literals, negated)
    if field.section == "datasets":
        return _dataset(text, field, op, literals, negated, pos)
    column = _column(field)[0]
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
        raise _error(text, pos, f"datasets.{field.key} compares with = != in like, not {op}")
    column: Any
    if field.key == "name":
        column = ArtifactRow.name
    elif field.key == "context":
        column = EventRow.role
    else:
        if op not in {"=", "!=", "in", "not in"}:
            raise _error(text, pos, f"datasets.digest compares with = != in, not {op}")
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


def _column(field: Field) -> tuple[Any, str]:
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


def _time(text: str, tok: _Tok, value: Any) -> datetime:
    if isinstance(value, float):
        return datetime.fromtimestamp(value / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _error(text, tok.pos, f"{value!r} is not an ISO 8601 time") from None
    return to_utc(parsed)  # type: ignore[return-value]


def _metric(
    text: str, key: str, op: str, value: _Tok | list[_Tok] | None, pos: int
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
        raise _error(text, pos, f"{op} applies to strings; metrics.{key} is a number")
    values = value if isinstance(value, list) else [value]
    numbers = []
    for v in values:
        assert v is not None
        lit = _literal(text, v)
        if not isinstance(lit, float):
            raise _error(
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


def parse(text: str) -> ColumnElement[bool] | None:
    """The filter as a WHERE condition over execution ⋈ run; None for an empty filter."""
    if not text or not text.strip():
        return None
    return _Parser(text).parse()
