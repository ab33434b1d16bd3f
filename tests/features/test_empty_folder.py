"""A new user's first steps, from an empty folder with no MLLEDGER_* variables: serve, apply a
Feast repo (kept in that folder with its data, as a project would), materialize, read online
values — each a real process in that folder, the CLI talking to the server over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from _support.feature_repo import DRIVERS, driver_frame, write_repo
from _support.servers import clean_env, free_port, wait_healthy

MLLEDGER = [sys.executable, "-m", "mlledger.client"]


def test_serve_apply_materialize_read_from_an_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    env = clean_env()
    now = datetime.now(UTC).replace(microsecond=0)
    repo = write_repo(folder, driver_frame(DRIVERS, hours=6, end=now), ttl_hours=2)
    relative_repo = os.path.relpath(repo, folder)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*MLLEDGER, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=300
        )

    port = free_port()
    server = subprocess.Popen(
        [*MLLEDGER, "serve", "--port", str(port), "--no-access-log"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server)
        applied = run("features", "apply", "--url", url, relative_repo)
        assert applied.returncode == 0, applied.stderr
        start = (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
        end = (now + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
        done = run("features", "materialize", "--url", url, "--start", start, "--end", end)
        assert done.returncode == 0, done.stderr
        r = httpx.post(
            f"{url}/api/v1/features/online",
            json={"features": ["driver_hourly_stats:city"], "entities": {"driver_id": DRIVERS}},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["statuses"] == ["PRESENT"] * len(DRIVERS)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (folder / ".mlledger" / "mlledger.db").exists()
    assert not list(folder.rglob(".mlledger/.mlledger"))
