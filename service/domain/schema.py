"""Pydantic building blocks shared by the domain's typed inputs (gate_types.py) and the REST
schemas: the domain validates what every transport hands it, by the same rules."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def at_least_one(*fields: str) -> dict[str, Any]:
    """`json_schema_extra` for a "give at least one of" rule (set: present and not null)."""
    return {
        "anyOf": [{"required": [f], "properties": {f: {"not": {"type": "null"}}}} for f in fields]
    }
