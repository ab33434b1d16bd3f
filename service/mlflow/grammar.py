"""MLflow's run-search grammar, rewritten into mlledger's (store/tracking/filters.py), which
then parses, checks and compiles it like any other search: one language underneath.

MLflow writes keys in double quotes or backticks (`metrics."val/auc"`), names attributes
`attributes.status`, `attribute.run_name` or bare (`run_name`), gives times in milliseconds and
statuses in capitals; otherwise the two languages agree (AND, comparisons, LIKE, ILIKE, IN,
IS NULL).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mlledger.store.errors import InvalidArgument

from .wire import STATES, USER_TAG

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<field>[A-Za-z_]\w*\.(?:`[^`]*`|"(?:[^"\\]|\\.)*"|[\w\-/.:]+))
    | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
    | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
    | (?P<word>[A-Za-z_]\w*)
    | (?P<op><=|>=|!=|<>|==|=|<|>|\(|\)|,)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "like", "ilike"}
_SECTIONS = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "parameter": "params",
    "parameters": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
_ATTRIBUTES = {  # MLflow's attribute -> mlledger's field
    "run_name": "attributes.name",
    "status": "attributes.state",
    "start_time": "attributes.started_at",
    "created": "attributes.started_at",
    "end_time": "attributes.ended_at",
    "run_id": "attributes.run_id",
    "user_id": f"tags.`{USER_TAG}`",
}


def _invalid(text: str, message: str) -> InvalidArgument:
    return InvalidArgument(f"filter {text!r}: {message}", details={"filter": text})


def _key(raw: str) -> str:
    if raw[:1] in '`"' and raw[-1:] == raw[:1] and len(raw) >= 2:
        raw = raw[1:-1].replace('\\"', '"')
    if "`" in raw or not raw:
        raise ValueError(raw)
    return raw


def _field(text: str, token: str) -> str:
    section, _, raw = token.partition(".")
    canonical = _SECTIONS.get(section.lower())
    if section.lower() in ("datasets", "dataset"):
        key = raw.strip('`"').lower()
        if key not in ("name", "digest", "context"):
            raise _invalid(text, f"unknown dataset field {raw!r} (name, digest, context)")
        return f"datasets.{key}"
    if canonical is None:
        raise _invalid(text, f"unknown entity {section!r} (use metrics, params, tags, attributes)")
    try:
        key = _key(raw)
    except ValueError:
        raise _invalid(text, f"{token!r} is not a valid key") from None
    if canonical == "attributes":
        if key.lower() not in _ATTRIBUTES:
            raise _invalid(
                text, f"unknown attribute {key!r}; attributes are {', '.join(sorted(_ATTRIBUTES))}"
            )
        return _ATTRIBUTES[key.lower()]
    return f"{canonical}.`{key}`"


def filter_text(text: str) -> str:
    """MLflow's filter as mlledger's. Raises InvalidArgument naming what cannot be said."""
    out: list[str] = []
    pos = 0
    status = False  # the values after an attribute `status` are statuses
    while pos < len(text) and text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _invalid(text, f"unexpected character at position {pos}")
        kind = m.lastgroup
        value = m.group(kind or 0)
        pos = m.end()
        if kind == "field":
            field = _field(text, value)
            status = field == "attributes.state"
            out.append(field)
        elif kind == "word":
            lower = value.lower()
            if lower in _KEYWORDS:
                out.append(lower)
                if lower in {"and", "or"}:
                    status = False
            elif lower in _ATTRIBUTES:
                field = _ATTRIBUTES[lower]
                status = field == "attributes.state"
                out.append(field)
            else:
                raise _invalid(text, f"{value!r} is not a field or keyword")
        elif kind == "string":
            inner = value[1:-1]
            if value[0] == "'":
                inner = inner.replace("''", "'")
            if status:
                mapped = STATES.get(inner.upper())
                if mapped is None:
                    raise _invalid(
                        text, f"{inner!r} is not a run status ({', '.join(sorted(STATES))})"
                    )
                inner = mapped[0]
            out.append("'" + inner.replace("\\", "\\\\").replace("'", "\\'") + "'")
        else:
            out.append(value)
    return " ".join(out)


# MLflow's order when none is given: its clients page through runs that share a start time
# (created in one millisecond, or with start_time given) in run id order. A given order keeps
# mlledger's tie-break (newest first), so an order by one metric stays an index walk.
DEFAULT_ORDER = "attributes.started_at desc, attributes.run_id asc"


def order_text(order_by: Sequence[str]) -> str:
    """MLflow's `order_by` list (`metrics.auc DESC`, `attributes.start_time`) as mlledger's
    comma-separated order, or MLflow's default."""
    parts = []
    for clause in order_by:
        clause = clause.strip()
        if not clause:
            continue
        words = clause.rsplit(None, 1)
        direction = "asc"
        if len(words) == 2 and words[1].lower() in {"asc", "desc"}:
            clause, direction = words[0], words[1].lower()
        m = _TOKEN.fullmatch(clause)
        if m is None or m.lastgroup not in {"field", "word"}:
            raise InvalidArgument(
                f"order_by {clause!r} is not '<field> [ASC|DESC]'", details={"order_by": clause}
            )
        if m.lastgroup == "word":
            if clause.lower() not in _ATTRIBUTES:
                raise InvalidArgument(
                    f"order_by: unknown attribute {clause!r}", details={"order_by": clause}
                )
            field = _ATTRIBUTES[clause.lower()]
        else:
            field = _field(clause, clause)
        parts.append(f"{field} {direction}")
    return ", ".join(parts) or DEFAULT_ORDER
