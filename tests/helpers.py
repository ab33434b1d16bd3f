"""Small builders shared by tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def new(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"artifact": {"kind": kind, "name": name, **extra}}


def run(
    client: TestClient, name: str, inputs: list[dict], outputs: list[dict], **extra: Any
) -> dict[str, Any]:
    """Record one execution and return the response body (asserting 201)."""
    r = client.post(
        "/api/v1/executions",
        json={"kind": "run", "name": name, "inputs": inputs, "outputs": outputs, **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()


def ids(body: dict[str, Any], side: str) -> list[int]:
    return [e["artifact"]["id"] for e in body[side]]
