"""A real `mlledger serve` process, which tests can stop and start again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def wait_healthy(url: str, proc: subprocess.Popen[Any] | None, timeout: float = 120) -> None:
    """Until `url`'s /api/v1/health answers 200 (the readiness signal); fails when the process
    exits or the deadline passes (generous: CI machines are loaded)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"the server exited: {out}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} was not healthy within {timeout:.0f} s")
        time.sleep(0.1)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any MLLEDGER_* variable (a process under test gets
    only what the test gives it), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(
        self,
        database_url: str,
        cwd: Path,
        env: dict[str, str] | None = None,
        *,
        grpc: bool = False,
    ) -> None:
        self.port = free_port()
        # MLMD's gRPC listener starts before the HTTP server, so a healthy server serves both.
        self.grpc_port = free_port() if grpc else None
        self.url = f"http://127.0.0.1:{self.port}"
        self.cwd = cwd
        self.env = clean_env()
        self.env["MLLEDGER_DATABASE_URL"] = database_url
        self.env |= env or {}
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        # Its output goes to a file (a pipe nobody reads would fill and stall it), which a
        # failed start quotes.
        log = self.cwd / "serve.log"
        with log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mlledger.client", "serve", "--port", str(self.port)]
                + ([] if self.grpc_port is None else ["--grpc-port", str(self.grpc_port)]),
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_healthy(self.url, self.proc)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log.read_text()[-3000:]}") from None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None
