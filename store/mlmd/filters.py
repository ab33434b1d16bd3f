"""MLMD's `filter_query` language, compiled to SQL over mlledger's tables.

What TFX's input resolution and KFP send: comparisons of a node's attributes (`id`, `name`,
`type`, `uri`, `state`, `last_known_state`, `external_id`, the times), of its
`properties.<name>.<int_value|double_value|string_value|bool_value>` and
`custom_properties...`, and of its neighbours' through aliases — `contexts_<a>.<attr>` (the
contexts an artifact is attributed to, an execution associated with), `events_<a>.<type|
artifact_id|execution_id|milliseconds_since_epoch>`, and a context's `parent_contexts_<a>` /
`child_contexts_<a>` — joined with AND, OR, NOT and parentheses, with `=`, `!=`, `<>`, `<`,
`<=`, `>`, `>=`, `[NOT] LIKE`, `[NOT] IN (...)`, `IS [NOT] NULL`. An alias is a join: a node
matches when some assignment of its neighbours to the aliases makes the whole query true, as
in MLMD. Every literal is typed against its attribute before any SQL is made, so a query
can fail only with InvalidArgument, never in the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, String, and_, cast, false, not_, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm import join as orm_join
from sqlalchemy.sql import ColumnElement

from ..errors import InvalidArgument
from ..tables.lineage import AssociationRow, AttributionRow
from ..tables.mlmd import MlmdEventRow, ParentContextRow
from .nodes import Columns, TypeKind, columns

MAX_QUERY = 10_000
MAX_DEPTH = 32
MAX_IN = 1_000
MAX_ALIASES = 8

ARTIFACT_STATES = {
    "UNKNOWN": 0,
    "PENDING": 1,
    "LIVE": 2,
    "MARKED_FOR_DELETION": 3,
    "DELETED": 4,
    "ABANDONED": 5,
    "REFERENCE": 6,
}
EXECUTION_STATES = {
    "UNKNOWN": 0,
    "NEW": 1,
    "RUNNING": 2,
    "COMPLETE": 3,
    "FAILED": 4,
    "CACHED": 5,
    "CANCELED": 6,
}
EVENT_TYPES = {
    "UNKNOWN": 0,
    "DECLARED_OUTPUT": 1,
    "DECLARED_INPUT": 2,
    "INPUT": 3,
    "OUTPUT": 4,
    "INTERNAL_INPUT": 5,
    "INTERNAL_OUTPUT": 6,
    "PENDING_OUTPUT": 7,
}

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?|\.\d+)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<quoted>`[^`]*`)
    | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,|\.|-)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL", "TRUE", "FALSE"}


@dataclass
class Token:
    kind: str  # num | str | name | op | kw | end
    text: str
    value: Any = None
    at: int = 0


def tokenize(query: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        m = _TOKEN.match(query, pos)
        if not m or m.end() == pos:
            raise InvalidArgument(f"filter_query: cannot read {query[pos : pos + 20]!r} at {pos}")
        at = m.start(m.lastgroup or 0)
        if m.group("num"):
            text = m.group("num")
            is_int = re.fullmatch(r"\d+", text) is not None
            out.append(Token("num", text, int(text) if is_int else float(text), at))
        elif m.group("str"):
            raw = m.group("str")[1:-1]
            out.append(Token("str", raw, re.sub(r"\\(.)", r"\1", raw), at))
        elif m.group("quoted"):
            out.append(Token("name", m.group("quoted")[1:-1], None, at))
        elif m.group("op"):
            out.append(Token("op", m.group("op"), None, at))
        else:
            word = m.group("word")
            kind = "kw" if word.upper() in KEYWORDS else "name"
            out.append(Token(kind, word.upper() if kind == "kw" else word, None, at))
        pos = m.end()
    out.append(Token("end", "", None, len(query)))
    return out


# The parsed query: nested tuples.
#   ("and"|"or", left, right) | ("not", q) | ("cmp", path, op, literal)
#   | ("in", path, negated, [literals]) | ("like", path, negated, str) | ("null", path, negated)
# A path is a list of names; a literal is ("num"|"str"|"bool"|"enum", value).


class _Parser:
    def __init__(self, query: str) -> None:
        if len(query) > MAX_QUERY:
            raise InvalidArgument(f"filter_query is longer than {MAX_QUERY} characters")
        self.tokens = tokenize(query)
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def expect(self, kind: str, text: str | None = None) -> Token:
        t = self.take()
        if t.kind != kind or (text is not None and t.text != text):
            raise InvalidArgument(
                f"filter_query: expected {text or kind} at {t.at}, found {t.text or 'the end'!r}"
            )
        return t

    def is_(self, kind: str, text: str) -> bool:
        t = self.peek()
        return t.kind == kind and t.text == text

    def parse(self) -> Any:
        q = self.expr()
        if self.peek().kind != "end":
            t = self.peek()
            raise InvalidArgument(f"filter_query: unexpected {t.text!r} at {t.at}")
        return q

    def expr(self) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InvalidArgument(f"filter_query nests deeper than {MAX_DEPTH}")
        left = self.conj()
        while self.is_("kw", "OR"):
            self.take()
            left = ("or", left, self.conj())
        self.depth -= 1
        return left

    def conj(self) -> Any:
        left = self.neg()
        while self.is_("kw", "AND"):
            self.take()
            left = ("and", left, self.neg())
        return left

    def neg(self) -> Any:
        if self.is_("kw", "NOT"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise InvalidArgument(f"filter_query nests deeper than {MAX_DEPTH}")
            inner = self.neg()
            self.depth -= 1
            return ("not", inner)
        if self.is_("op", "("):
            self.take()
            inner = self.expr()
            self.expect("op", ")")
            return inner
        return self.comparison()

    def path(self) -> list[str]:
        parts = [self.expect("name").text]
        while self.is_("op", "."):
            self.take()
            parts.append(self.expect("name").text)
        return parts

    def literal(self) -> tuple[str, Any]:
        t = self.take()
        if t.kind == "op" and t.text == "-":
            n = self.expect("num")
            return ("num", -n.value)
        if t.kind == "num":
            return ("num", t.value)
        if t.kind == "str":
            return ("str", t.value)
        if t.kind == "kw" and t.text in ("TRUE", "FALSE"):
            return ("bool", t.text == "TRUE")
        if t.kind == "name":
            return ("enum", t.text)
        raise InvalidArgument(f"filter_query: expected a value at {t.at}, found {t.text!r}")

    def comparison(self) -> Any:
        path = self.path()
        t = self.take()
        if t.kind == "op" and t.text in ("=", "!=", "<>", "<", "<=", ">", ">="):
            return ("cmp", path, "!=" if t.text == "<>" else t.text, self.literal())
        negated = False
        if t.kind == "kw" and t.text == "NOT":
            negated, t = True, self.take()
        if t.kind == "kw" and t.text == "IN":
            self.expect("op", "(")
            items = [self.literal()]
            while self.is_("op", ","):
                self.take()
                items.append(self.literal())
                if len(items) > MAX_IN:
                    raise InvalidArgument(f"filter_query: an IN list holds at most {MAX_IN} values")
            self.expect("op", ")")
            return ("in", path, negated, items)
        if t.kind == "kw" and t.text == "LIKE":
            pattern = self.expect("str")
            return ("like", path, negated, pattern.value)
        if t.kind == "kw" and t.text == "IS" and not negated:
            is_not = False
            if self.is_("kw", "NOT"):
                self.take()
                is_not = True
            self.expect("kw", "NULL")
            return ("null", path, is_not)
        raise InvalidArgument(
            f"filter_query: expected a comparison after {'.'.join(path)!r} at {t.at}"
        )


def parse(query: str) -> Any:
    return _Parser(query).parse()


# ---- compiling --------------------------------------------------------------------------------

Kind = str  # "int" | "double" | "string" | "bool" | "enum:<table>"


@dataclass
class Compiled:
    where: ColumnElement[bool]
    joins: list[Callable[[Any], Any]] = field(default_factory=list)


_NEIGHBOURS: dict[str, set[TypeKind]] = {
    "contexts": {"artifact", "execution"},
    "events": {"artifact", "execution"},
    "parent_contexts": {"context"},
    "child_contexts": {"context"},
}
_ALIAS = re.compile(r"^(contexts|events|parent_contexts|child_contexts)_([A-Za-z0-9]+)$")


class _Compiler:
    def __init__(self, cols: Columns, kind_types: Mapping[tuple[str, str], int]) -> None:
        self.cols = cols
        self.kind_types = kind_types
        self.aliases: dict[str, tuple[str, Any]] = {}
        self.joins: list[Callable[[Any], Any]] = []

    def alias(self, name: str) -> tuple[str, Any]:
        if name in self.aliases:
            return self.aliases[name]
        m = _ALIAS.match(name)
        assert m
        what = m.group(1)
        if self.cols.kind not in _NEIGHBOURS[what]:
            raise InvalidArgument(f"filter_query: {what}_* is not known for {self.cols.kind}s")
        if len(self.aliases) >= MAX_ALIASES:
            raise InvalidArgument(f"filter_query uses more than {MAX_ALIASES} aliases")
        base = self.cols.base
        if what == "events":
            ev = aliased(MlmdEventRow)
            on = ev.artifact_id if self.cols.kind == "artifact" else ev.execution_id

            def join_event(j: Any, ev: Any = ev, on: Any = on) -> Any:
                return orm_join(j, ev, on == base.id)

            self.joins.append(join_event)
            self.aliases[name] = ("events", ev)
        else:
            other = columns("context", self.kind_types, role=f"alias/{name}")
            if what == "contexts":
                link: Any = aliased(
                    AttributionRow if self.cols.kind == "artifact" else AssociationRow  # type: ignore[arg-type]
                )
                mine = link.artifact_id if self.cols.kind == "artifact" else link.execution_id
                theirs = link.context_id
            else:
                link = aliased(ParentContextRow)
                mine, theirs = (
                    (link.child_id, link.parent_id)
                    if what == "parent_contexts"
                    else (link.parent_id, link.child_id)
                )

            def join(
                j: Any,
                link: Any = link,
                mine: Any = mine,
                theirs: Any = theirs,
                other: Columns = other,
            ) -> Any:
                return other.joined(
                    orm_join(j, link, mine == base.id).join(other.base, other.base.id == theirs)
                )

            self.joins.append(join)
            self.aliases[name] = ("node", other)
        return self.aliases[name]

    def attribute(self, path: list[str]) -> tuple[ColumnElement[Any], Kind]:
        cols = self.cols
        if len(path) > 1 and _ALIAS.match(path[0]):
            what, target = self.alias(path[0])
            path = path[1:]
            if what == "events":
                if len(path) == 1 and path[0] in ("artifact_id", "execution_id"):
                    return getattr(target, path[0]), "int"
                if path == ["type"]:
                    return target.type, "enum:event"
                if path == ["milliseconds_since_epoch"]:
                    return target.ms, "int"
                raise InvalidArgument(f"filter_query: events have no {'.'.join(path)!r}")
            cols = target
        if len(path) == 1:
            name = path[0]
            if name not in cols.attrs:
                raise InvalidArgument(f"filter_query: {cols.kind}s have no attribute {name!r}")
            kind = {
                "id": "int",
                "type_id": "int",
                "create_time_since_epoch": "int",
                "last_update_time_since_epoch": "int",
                "state": "enum:artifact",
                "last_known_state": "enum:execution",
            }.get(name, "string")
            return cols.attrs[name], kind
        if len(path) == 3 and path[0] in ("properties", "custom_properties"):
            value_field = path[2]
            column = (
                cols.node.properties if path[0] == "properties" else cols.node.custom_properties
            )
            target_type: dict[str, tuple[Any, Kind]] = {
                "int_value": (BigInteger, "int"),
                "double_value": (Float, "double"),
                "string_value": (String, "string"),
                "bool_value": (Boolean, "bool"),
            }
            if value_field not in target_type:
                raise InvalidArgument(
                    f"filter_query: {'.'.join(path)!r}: a property is compared by int_value, "
                    "double_value, string_value or bool_value"
                )
            sql_type, kind = target_type[value_field]
            element = column[(path[1], value_field)]
            if sql_type is String:
                return element.as_string(), kind
            if sql_type is Boolean:
                return element.as_boolean(), kind
            if sql_type is Float:
                return element.as_float(), kind
            return cast(element.as_string(), BigInteger), kind
        raise InvalidArgument(f"filter_query: unknown attribute {'.'.join(path)!r}")

    def value(self, literal: tuple[str, Any], kind: Kind, where: str) -> Any:
        form, value = literal
        if kind.startswith("enum:"):
            names = {
                "artifact": ARTIFACT_STATES,
                "execution": EXECUTION_STATES,
                "event": EVENT_TYPES,
            }[kind[5:]]
            if form in ("enum", "str") and str(value) in names:
                return names[str(value)]
            if form == "num" and isinstance(value, int):
                return value
            raise InvalidArgument(
                f"filter_query: {where} is one of {', '.join(names)}, not {value!r}"
            )
        ok = {
            "int": form == "num" and isinstance(value, int),
            "double": form == "num",
            "string": form == "str",
            "bool": form == "bool",
        }[kind]
        if not ok:
            raise InvalidArgument(f"filter_query: {where} compares with a {kind}, not {value!r}")
        if kind == "int" and not -(2**63) <= value < 2**63:
            raise InvalidArgument(f"filter_query: {value} is past the 64-bit integers")
        return value

    def compile(self, q: Any) -> ColumnElement[bool]:
        op = q[0]
        if op == "and":
            return and_(self.compile(q[1]), self.compile(q[2]))
        if op == "or":
            return or_(self.compile(q[1]), self.compile(q[2]))
        if op == "not":
            return not_(self.compile(q[1]))
        path = q[1]
        column, kind = self.attribute(path)
        where = ".".join(path)
        if op == "cmp":
            value = self.value(q[3], kind, where)
            comparisons = {
                "=": column.__eq__,
                "!=": column.__ne__,
                "<": column.__lt__,
                "<=": column.__le__,
                ">": column.__gt__,
                ">=": column.__ge__,
            }
            return comparisons[q[2]](value)  # type: ignore[no-any-return]
        if op == "in":
            values = [self.value(v, kind, where) for v in q[3]]
            expr = column.in_(values) if values else false()
            return not_(expr) if q[2] else expr
        if op == "like":
            if kind != "string":
                raise InvalidArgument(f"filter_query: LIKE compares strings; {where} is not one")
            expr = column.like(q[3])
            return not_(expr) if q[2] else expr
        return column.is_not(None) if q[2] else column.is_(None)


def compile_filter(
    query: str, cols: Columns, kind_types: Mapping[tuple[str, str], int]
) -> ColumnElement[bool]:
    """A condition on `cols.base.id`, ready for a WHERE over `cols`' tables.

    Raises InvalidArgument for anything the language does not have.
    """
    tree = parse(query)
    compiler = _Compiler(cols, kind_types)
    condition = compiler.compile(tree)
    if not compiler.joins:
        return condition
    # Aliases are joins: the node matches when any combination of its neighbours does. The
    # inner query ranges over its own copy of the node's tables.
    inner_cols = columns(cols.kind, kind_types, role="inner")
    inner_compiler = _Compiler(inner_cols, kind_types)
    inner_condition = inner_compiler.compile(tree)
    joined = inner_cols.joined(inner_cols.base)
    for join in inner_compiler.joins:
        joined = join(joined)
    inner = select(inner_cols.base.id).select_from(joined).where(inner_condition)
    return cols.base.id.in_(inner)
