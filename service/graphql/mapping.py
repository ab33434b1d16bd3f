"""Domain entities into GraphQL object types, in one place.

A type's plain fields (those without a resolver) are read from the entity's attributes of the
same name, so a field added to an entity and declared on its type needs no copying code;
`tests/service/test_transport_parity.py` keeps REST and GraphQL showing the same fields.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


_fields: dict[type, tuple[str, ...]] = {}


def _plain_fields(cls: type) -> tuple[str, ...]:
    found = _fields.get(cls)
    if found is None:
        definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        found = tuple(f.python_name for f in definition.fields if f.base_resolver is None)
        _fields[cls] = found
    return found


def from_entity(cls: type[T], entity: Any, **overrides: Any) -> T:
    """`cls` with each plain field from `entity` (JSON scalars take the value as it is),
    unless given in `overrides` (a value the entity holds under another shape)."""
    values = {n: getattr(entity, n) for n in _plain_fields(cls) if n not in overrides}
    return cls(**values, **overrides)
