"""What a run captures about where it ran: code version, Python, host, installed packages."""

from __future__ import annotations

import hashlib
import platform
import socket
import subprocess
import sys
from importlib.metadata import distributions
from typing import Any


def git() -> dict[str, Any]:
    """Commit and dirty flag of the working directory's repository ({} outside one)."""

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], capture_output=True, text=True, timeout=5, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if not commit:
        return {}
    status = run("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit,
        "dirty": bool(status),
        "branch": run("rev-parse", "--abbrev-ref", "HEAD"),
        "remote": run("config", "--get", "remote.origin.url"),
    }


def packages() -> list[str]:
    found = {
        f"{d.metadata['Name']}=={d.version}"
        for d in distributions()
        if d.metadata and d.metadata["Name"]
    }
    return sorted(found, key=str.lower)


def capture() -> tuple[dict[str, Any], list[str], str]:
    """(environment, packages, packages hash)."""
    pkgs = packages()
    digest = hashlib.sha256("\n".join(pkgs).encode()).hexdigest()
    env = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "git": git(),
        "packages_sha256": digest,
        "packages_count": len(pkgs),
    }
    return env, pkgs, digest
