"""Drive MLMD's real Python client (ml-metadata 1.17.1 in its own venv, .venv-mlmd, from
requirements/mlmd.lock: it pins protobuf < 5, which cannot live beside the service) against a
running mlledger's gRPC listener."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-mlmd" / "bin" / "python"
SUITE = ROOT / ".venv-mlmd/lib/python3.11/site-packages/ml_metadata/metadata_store"

PRELUDE = """
import json, sys
import ml_metadata as mlmd
from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as pb
config = pb.MetadataStoreClientConfig(host="127.0.0.1", port=int(sys.argv[1]))
config.client_timeout_sec = 60
if len(sys.argv) > 2:  # TLS: PEM texts, as MLMD's client takes them
    for field, pem in json.loads(sys.argv[2]).items():
        setattr(config.ssl_config, field, pem)
store = mlmd.MetadataStore(config)
def out(value):
    print("RESULT " + json.dumps(value, default=str))
"""


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLLEDGER_", "PYTHON"))}


def run_mlmd(script: str, port: int, ssl: dict[str, Path] | None = None) -> Any:
    """Run `script` (after PRELUDE, with `store` connected); returns what it passed to
    `out(...)`. Fails with the script's output when it raises.

    `ssl` fills MLMD's `ssl_config` from PEM files: `custom_ca` (the server's CA),
    `client_key`, and — MLMD's name for the client's own certificate — `server_cert`."""
    if not PYTHON.exists():
        raise AssertionError(f"{PYTHON} is missing: run scripts/bootstrap --mlmd")
    done = subprocess.run(
        [str(PYTHON), "-c", PRELUDE + textwrap.dedent(script), str(port)]
        + ([json.dumps({k: v.read_text() for k, v in ssl.items()})] if ssl else []),
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not results:
        raise AssertionError(
            f"mlmd script failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return json.loads(results[-1])
