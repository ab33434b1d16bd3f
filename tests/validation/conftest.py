"""A real server and real workers in the validator environment (.venv-validator, built by
`scripts/bootstrap --validator`), on the test's own project."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _support.servers import Server, clean_env

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / ".venv-validator" / "bin" / "mlledger"


class Workers:
    def __init__(self, server: Server, project: str) -> None:
        self.server, self.project = server, project
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, n: int = 1, *args: str) -> None:
        if not VALIDATOR.exists():
            pytest.fail("no validator environment: run scripts/bootstrap --validator")
        env = clean_env()
        env |= {"MLLEDGER_URL": self.server.url, "MLLEDGER_PROJECT": self.project}
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        for _ in range(n):
            self.procs.append(
                subprocess.Popen(
                    # The tests' data lives under the temp folder: the workers' one data root.
                    [str(VALIDATOR), "worker", "--data-root", tempfile.gettempdir(), *args],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )

    def stop(self) -> str:
        out = []
        for p in self.procs:
            p.terminate()
            try:
                out.append(p.communicate(timeout=30)[0] or "")
            except subprocess.TimeoutExpired:
                p.kill()
                out.append(p.communicate()[0] or "")
        self.procs = []
        return "\n".join(out)


@pytest.fixture
def workers(server: Server, project: str) -> Iterator[Workers]:
    w = Workers(server, project)
    yield w
    w.stop()


@pytest.fixture
def log_dataset(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    def log(name: str, path: Path, fmt: str = "parquet") -> dict[str, Any]:
        r = api.post(
            "/artifacts",
            json={
                "kind": "dataset",
                "name": name,
                "uri": path.resolve().as_uri(),
                "properties": {"format": fmt},
            },
        )
        assert r.status_code in (200, 201), r.text
        return r.json()

    return log


@pytest.fixture
def verdict(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    """Request the gate of a dataset version and wait for the workers' verdict."""

    def wait(dataset: int, timeout: float = 180, **options: Any) -> dict[str, Any]:
        r = api.post("/validation/jobs", json={"dataset": dataset, **options})
        assert r.status_code in (200, 202), r.text
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            gate = api.get(f"/datasets/{dataset}/gate").json()
            if gate["status"] not in ("pending", "none"):
                return gate
            time.sleep(0.3)
        raise AssertionError(f"no verdict on dataset {dataset} within {timeout} s: {gate}")

    return wait
