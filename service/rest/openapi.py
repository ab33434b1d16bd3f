"""The OpenAPI document, made to state what the server enforces.

So that a client generated from the schema, or a fuzzer, never builds a request the schema
calls valid and the server refuses:
- pydantic describes a dict whose keys have a pattern as `patternProperties`, which (without
  `additionalProperties: false`) admits keys of any form: here it is `propertyNames`;
- no text may hold NUL (limits.RefuseNul): every string and every key says so;
- a header or query parameter is never null (there is no null on the wire);
- integer bounds are integers (a float 2^63-1 rounds up past the 64-bit range).
"""

from __future__ import annotations

from typing import Any

NO_NUL = "^[^\\u0000]*$"
INT64 = 2**63 - 1
# Any JSON value but text with NUL, as `JsonValue` (params, properties) is meant.
JSON_VALUE = {
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
        },
    ]
}


def tighten(schema: dict[str, Any]) -> dict[str, Any]:
    out = _tighten(schema)
    components = out.get("components", {}).get("schemas", {})
    if "JsonValue" in components:
        components["JsonValue"] = {**JSON_VALUE, "title": "JsonValue"}
    return out


def _tighten(node: Any) -> Any:
    if isinstance(node, list):
        return [_tighten(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _tighten(value) for key, value in node.items()}
    patterns = out.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in out:
        ((pattern, values),) = patterns.items()
        del out["patternProperties"]
        out["propertyNames"] = {**out.get("propertyNames", {}), "pattern": pattern}
        out["additionalProperties"] = values
    if out.get("type") == "object" and "additionalProperties" in out:
        names = out.setdefault("propertyNames", {})
        if "pattern" in names:
            names.setdefault("allOf", []).append({"pattern": NO_NUL})
        else:
            names["pattern"] = NO_NUL
    if out.get("type") == "array" and out.get("items") == {}:
        out["items"] = {"$ref": "#/components/schemas/JsonValue"}
    if (
        out.get("type") == "string"
        and "pattern" not in out
        and "enum" not in out
        and out.get("format") not in ("binary", "date-time", "date", "uuid")
    ):
        out["pattern"] = NO_NUL
    elif out.get("type") == "string" and "pattern" in out and out["pattern"] != NO_NUL:
        out.setdefault("allOf", []).append({"pattern": NO_NUL})
    if out.get("type") == "integer":
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            value = out.get(bound)
            if isinstance(value, float):
                out[bound] = max(-INT64 - 1, min(INT64, int(value)))
    if out.get("in") in ("header", "query", "path") and isinstance(out.get("schema"), dict):
        branches = out["schema"].get("anyOf")
        if isinstance(branches, list):
            kept = [b for b in branches if b.get("type") != "null"]
            if len(kept) == 1:
                rest = {k: v for k, v in out["schema"].items() if k != "anyOf"}
                out["schema"] = {**kept[0], **rest}
            else:
                out["schema"]["anyOf"] = kept
    return out
