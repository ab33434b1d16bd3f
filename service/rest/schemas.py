"""API schemas shared by the REST routers (`...In` parsed from requests, `...Out` returned)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, Self, TypeVar

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    WithJsonSchema,
)

from mlledger.store import kinds
from mlledger.store.metadata.pagination import CURSOR_PATTERN

from ..domain.schema import Strict, at_least_one

__all__ = ["Strict", "at_least_one"]  # and the names below

T = TypeVar("T")

# Printable text: no control characters, which break logs, terminals and the UI.
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")
]
ShortText = Annotated[str, StringConstraints(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")]
Uri = Annotated[
    str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Fingerprint = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[\x21-\x7e]+$")
]


def integer(ge: int, le: int) -> Any:
    """A strict integer in [ge, le] that also takes a whole float (JSON Schema's `integer`
    admits `3.0`), never text or a boolean. Ints are checked in pydantic's core (a column of
    10,000 costs ~0.4 ms); only floats reach Python."""

    def whole(value: float) -> int:
        if not value.is_integer() or not ge <= int(value) <= le:
            raise ValueError(f"must be a whole number between {ge} and {le}")
        return int(value)

    exact = Annotated[int, Field(ge=ge, le=le, strict=True)]
    floating = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(whole)]
    return Annotated[
        exact | floating,
        Field(union_mode="left_to_right"),
        WithJsonSchema({"type": "integer", "minimum": ge, "maximum": le}),
    ]


if TYPE_CHECKING:  # mypy sees the Python type; pydantic sees the bounds and the float rule
    Id = int
    Int64 = int
    Millis = int
    Version = int
else:
    Id = integer(1, 2**63 - 1)
    Int64 = integer(-(2**63), 2**63 - 1)
    Millis = integer(0, 2**63 - 1)
    Version = integer(1, 2**31 - 1)
# In a path or query string an id arrives as text: ASCII digits only (pydantic refuses `²`
# and `٣`, which Python's int() would take), within the databases' 64-bit range.
PathId = Annotated[int, Field(ge=1, le=2**63 - 1)]
PathVersion = Annotated[int, Field(ge=1, le=2**31 - 1)]  # versions are 32-bit
Cursor = Annotated[
    str | None,
    Query(
        max_length=19,
        pattern=CURSOR_PATTERN,
        description="`next_cursor` of the previous page (a position: any such value is a page).",
    ),
]


def exactly_one(*forms: tuple[str, ...]) -> dict[str, Any]:
    """`json_schema_extra` stating a "give exactly one of" rule in the OpenAPI, so that every
    request the schema admits is one the server accepts: in each form its fields are set
    (not null) and the other forms' fields are absent or null."""
    every = [f for form in forms for f in form]
    branches = []
    for form in forms:
        properties: dict[str, Any] = {f: {"not": {"type": "null"}} for f in form}
        properties |= {f: {"type": "null"} for f in every if f not in form}
        branches.append({"required": list(form), "properties": properties})
    return {"oneOf": branches}


def _finite(value: dict[str, Any]) -> dict[str, Any]:
    """NaN and Infinity are not JSON: Postgres refuses them and SQLite would store null."""
    if value:  # runs for every JSON field of a batch; most are empty
        _check_finite(value, "")
    return value


def _check_finite(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path or 'value'} is {value}; NaN and Infinity are not valid JSON")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, f"{path}[{i}]")


JsonObject = Annotated[
    dict[Annotated[str, StringConstraints(max_length=256)], JsonValue], AfterValidator(_finite)
]

# The vocabulary is the store's (store/kinds.py): one list each, for the database and the API.
ArtifactKind = kinds.ArtifactKind
ArtifactState = kinds.ArtifactState
ExecutionKind = kinds.ExecutionKind
ExecutionState = kinds.ExecutionState
ContextKind = kinds.ContextKind


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "Malformed request (bad JSON, cursor, reference)",
        401: "Missing or invalid bearer token",
        403: "The token lacks the scope or project",
        404: "No such object in this project",
        409: "Conflicts with the current state",
        413: "Request body too large",
        422: "Request does not match the schema",
    }.items()
}


class ArtifactIn(Strict):
    kind: ArtifactKind
    name: Name
    uri: Uri | None = None
    fingerprint: Fingerprint | None = Field(
        None,
        description="Content hash; logging the same name and fingerprint again returns "
        "the existing version.",
    )
    properties: JsonObject = Field(default_factory=dict)
    state: Literal["pending", "live"] = "live"


class EntityOut(BaseModel):
    """A domain entity on the wire: its fields read by name from the entity's attributes, so
    a field added to an entity and declared here needs no copying code."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, entity: Any) -> Self:
        return cls.model_validate(entity)


class ArtifactOut(EntityOut):
    id: int
    kind: str
    name: str
    version: int
    uri: str | None
    fingerprint: str | None
    properties: dict[str, Any]
    state: str
    created_at: datetime


class ContextOut(EntityOut):
    id: int
    kind: str
    name: str
    properties: dict[str, Any]
    created_at: datetime
    deleted_at: datetime | None = Field(
        None, description="When the experiment was deleted (it keeps its runs and lineage)."
    )


# Field types of runs and the registry (shared by runs.py, models.py, pushes.py).

# As MLflow: letters, digits, underscores, dashes, periods, spaces, slashes (and colons).
Key = Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=r"^[\w\-. /:]+$")]


def _not_all_digits(value: str) -> str:
    if value.isascii() and value.isdigit():
        raise ValueError("a run uuid cannot be all digits: digits address a run by its id")
    return value


RunUuid = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$"),
    AfterValidator(_not_all_digits),
    # The same rule, stated for the OpenAPI (pydantic's regex engine has no lookahead).
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": r"^(?![0-9]+$)[A-Za-z0-9_\-.:]+$",
        }
    ),
]
ModelName = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f/]+$")
]
AliasName = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-.]+$")
]
Text = Annotated[str, StringConstraints(max_length=5000)]


def _param_text(value: Any) -> Any:
    """Params are strings (as in MLflow), so `params.lr = "0.1"` matches whatever type the
    training code passed; numbers and booleans are stored as Python writes them."""
    if isinstance(value, bool | int | float) and not isinstance(value, str):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value} is not a valid param value")
        return str(value)
    return value


ParamValue = Annotated[str, BeforeValidator(_param_text), StringConstraints(max_length=6000)]
Params = Annotated[dict[Key, ParamValue], Field(max_length=1000)]
Tags = Annotated[dict[Key, Text], Field(max_length=1000)]
NonFinite = Literal["NaN", "Infinity", "-Infinity"]
MetricValue = Annotated[float, Field(strict=True)] | NonFinite


def wire_float(value: float) -> float | str:
    """Non-finite doubles as proto3's JSON mapping writes them: "NaN", "Infinity"."""
    if math.isfinite(value):
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
