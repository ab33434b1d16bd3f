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

from sqlalchemy import ColumnElement, and_, or_

from ..errors import InvalidArgument
from .conditions import Field, Token, compile_term, error

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
ATTRIBUTES = ("name", "state", "run_id", "started_at", "ended_at")
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "like", "ilike"}


def _tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise InvalidArgument(
            f"filter is {len(text)} characters; the limit is {MAX_LENGTH}",
            details={"length": len(text)},
        )
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise error(text, start, f"unexpected character {text[start]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        start = m.start(kind)
        if kind == "ident" and value.lower() in _KEYWORDS:
            kind = "keyword"
            value = value.lower()
        tokens.append(Token(kind, value, start))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def parse_field(text: str, token: str, pos: int) -> Field:
    section, dot, key = token.partition(".")
    if not dot:
        if section.lower() in ATTRIBUTES:
            return Field("attributes", section.lower())
        raise error(
            text,
            pos,
            f"{token!r} is not a field; use metrics.<key>, params.<key>, tags.<key> "
            f"or attributes.<{'|'.join(ATTRIBUTES)}>",
        )
    canonical = _SECTIONS.get(section.lower())
    if canonical is None:
        raise error(
            text, pos, f"unknown section {section!r}; use metrics, params, tags or attributes"
        )
    if key.startswith("`"):
        key = key[1:-1]
    if canonical in ("params", "tags") and not _STORED_KEY.match(key):
        raise error(
            text,
            pos,
            f"{canonical} keys are letters, digits and _ - . / : or space; {key!r} is none",
        )
    if canonical == "datasets" and key not in DATASET_KEYS:
        raise error(
            text,
            pos,
            f"unknown dataset field {key!r}; datasets.name, datasets.digest or datasets.context "
            "(the input datasets a run read)",
        )
    if canonical == "attributes" and key not in ATTRIBUTES:
        raise error(text, pos, f"unknown attribute {key!r}; attributes are {', '.join(ATTRIBUTES)}")
    return Field(canonical, key)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.terms = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self, kind: str, text: str | None = None) -> Token | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def expect(self, kind: str, text: str | None, what: str) -> Token:
        t = self.take(kind, text)
        if t is None:
            found = "the end of the filter" if self.tok.kind == "end" else repr(self.tok.text)
            raise error(self.text, self.tok.pos, f"expected {what}, found {found}")
        return t

    # Negations are pushed down to the comparisons (De Morgan, valid in SQL's three-valued
    # logic), so every comparison is compiled knowing whether it stands under a `not`. A
    # param or tag comparison can then be a semi-join on `run_field` — true or false, never
    # unknown — and still select exactly the runs the three-valued original selects: without
    # a `not` above it, unknown and false drop a run alike.

    def parse(self) -> ColumnElement[bool]:
        expr = self.or_expr(False)
        if self.tok.kind != "end":
            raise error(
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
            raise error(self.text, pos, f"nested more than {MAX_NESTING} deep")
        try:
            yield
        finally:
            self.depth -= 1

    def comparison(self, negated: bool) -> ColumnElement[bool]:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise error(self.text, self.tok.pos, f"more than {MAX_TERMS} comparisons")
        ident = self.expect("ident", None, "a field such as metrics.auc")
        field = parse_field(self.text, ident.text, ident.pos)
        op_tok = self.tok
        if self.take("keyword", "is"):
            negate = self.take("keyword", "not") is not None
            self.expect("keyword", "null", "'null'")
            null = "is not null" if negate else "is null"
            return compile_term(self.text, field, null, None, op_tok.pos, negated)
        if self.take("keyword", "not"):
            self.expect("keyword", "in", "'in' after 'not'")
            return compile_term(self.text, field, "not in", self.value_list(), op_tok.pos, negated)
        if self.take("keyword", "in"):
            return compile_term(self.text, field, "in", self.value_list(), op_tok.pos, negated)
        if self.take("keyword", "like") or self.take("keyword", "ilike"):
            value = self.value()
            return compile_term(self.text, field, op_tok.text, value, op_tok.pos, negated)
        op = self.expect("op", None, "a comparison operator (= != < <= > >= like in is)")
        if op.text in {"(", ")", ","}:
            raise error(self.text, op.pos, f"expected a comparison operator, found {op.text!r}")
        return compile_term(self.text, field, op.text, self.value(), op.pos, negated)

    def value(self) -> Token:
        t = self.take("number") or self.take("string")
        if t is None:
            found = "the end of the filter" if self.tok.kind == "end" else repr(self.tok.text)
            raise error(
                self.text, self.tok.pos, f"expected a number or a quoted string, found {found}"
            )
        return t

    def value_list(self) -> list[Token]:
        self.expect("op", "(", "'(' to open the list")
        values = [self.value()]
        while self.take("op", ","):
            values.append(self.value())
        self.expect("op", ")", "')' to close the list")
        return values


def parse(text: str) -> ColumnElement[bool] | None:
    """The filter as a WHERE condition over execution ⋈ run; None for an empty filter."""
    if not text or not text.strip():
        return None
    return _Parser(text).parse()
