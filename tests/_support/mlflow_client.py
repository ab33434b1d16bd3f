"""Drive the real `mlflow` client (its own venv, .venv-mlflow, from requirements/mlflow.lock:
it needs protobuf 7, which cannot live beside the service) against a running mlledger."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-mlflow" / "bin" / "python"

PRELUDE = """
import json, math, os, sys
import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
client = MlflowClient()
def out(value):
    print("RESULT " + json.dumps(value, default=str))
"""


def run_mlflow(
    script: str, tracking_uri: str, *, token: str | None = None, cwd: Path | None = None
) -> Any:
    """Run `script` (after PRELUDE) with MLFLOW_TRACKING_URI set; returns what it passed to
    `out(...)`. Fails with the script's output when it raises."""
    if not PYTHON.exists():
        raise AssertionError(f"{PYTHON} is missing: run scripts/bootstrap --mlflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLLEDGER_", "MLFLOW_"))}
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"  # a refusal is an answer, not a reason to retry
    env["GIT_PYTHON_REFRESH"] = "quiet"
    if token is not None:
        env["MLFLOW_TRACKING_TOKEN"] = token
    done = subprocess.run(
        [str(PYTHON), "-c", PRELUDE + textwrap.dedent(script)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
    )
    results = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not results:
        raise AssertionError(
            f"mlflow script failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return json.loads(results[-1])
