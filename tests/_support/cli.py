"""The `mlledger` command line run in the test's own process (click's runner): the same
group, entry points and exit codes as the installed command, without a Python start-up and
its imports per call. Tests of what a fresh process imports spawn one instead."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from click.testing import CliRunner


@dataclass(frozen=True, slots=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def mlledger(*args: str, env: dict[str, str] | None = None) -> Completed:
    """`mlledger ARGS...` with no MLLEDGER_* variable of the test run's own (nor a CI's step
    summary to append to), only `env`."""
    from mlledger.client._cli import main

    scrub: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MLLEDGER_")}
    scrub["GITHUB_STEP_SUMMARY"] = None
    result = CliRunner().invoke(main, list(args), env={**scrub, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a bug: show it, not an exit code
    return Completed(result.exit_code, result.stdout, result.stderr)


def mlledger_process(*args: str, env: dict[str, str] | None = None) -> Completed:
    """`mlledger ARGS...` in a process of its own: for commands that race each other (the
    runner redirects this process's one stdout, so two at once would mix their output)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
    clean.pop("GITHUB_STEP_SUMMARY", None)
    done = subprocess.run(
        [sys.executable, "-m", "mlledger.client", *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=300,
    )
    return Completed(done.returncode, done.stdout, done.stderr)
