"""Small builders shared by tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from mlledger.store.database import Database


class LocalClient(TestClient):
    """A TestClient that connects as a local developer would: from 127.0.0.1 to 127.0.0.1,
    naming a loopback host (the only connections anonymous mode serves)."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        kwargs.setdefault("base_url", "http://127.0.0.1:8080")
        kwargs.setdefault("client", ("127.0.0.1", 50000))
        super().__init__(app, **kwargs)


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


@contextmanager
def count_statements(db: Database) -> Iterator[list[int]]:
    """Count SQL statements sent while the block runs (to prove N+1-free access paths)."""
    counted = [0]

    def on_execute(*_args: Any) -> None:
        counted[0] += 1

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield counted
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)


def histories_document(runs: int, keys: int) -> str:
    """The explorer's generated curves document (ui/src/queries.js `histories`), rebuilt for the
    statement-count tests: the same aliases, variables and fields."""
    variables = [f"$k{k}: String!" for k in range(keys)]
    roots = []
    for r in range(runs):
        variables.append(f"$r{r}: String!")
        fields = " ".join(
            f"h{k}: history(key: $k{k}, maxPoints: 2000) {{ key steps values downsampled total }}"
            for k in range(keys)
        )
        roots.append(f"r{r}: run(id: $r{r}) {{ {fields} }}")
    return f"query({', '.join(variables)}) {{ {' '.join(roots)} }}"
