"""Time from the command starting to the first healthy answer, and wall time of client
commands: mlledger beside MLflow, rounds interleaved, each server in a fresh folder.

Server: `mlledger serve` on the embedded default (first start: it creates its SQLite database;
second start: the database exists) and `mlflow server --workers 1` on SQLite (likewise first and
second start), each polled every 10 ms on its health route; for mlledger also the time to its
"serving at" line and until Feast has loaded in the background (`features: ready`).
Client: `mlledger runs list`, `mlledger gate model --help`, `mlledger --version` against the
running server, beside `mlflow runs list` and `mlflow --version`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

MLLEDGER = [sys.executable, "-m", "mlledger.client"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLLEDGER_", "MLFLOW_"))}


def stop(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """The process and everything it started (MLflow's job consumers, uvicorn's workers): a
    straggler of one round would slow the next one's start-up."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    proc.wait(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)


def until_healthy(url: str, proc: subprocess.Popen, started: float) -> float:  # type: ignore[type-arg]
    with httpx.Client(timeout=2) as http:
        while True:
            try:
                if http.get(url).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise SystemExit(f"{proc.args} exited: {proc.stdout.read() if proc.stdout else ''}")
            if time.perf_counter() - started > 300:
                raise SystemExit(f"{url} not healthy after 300 s")
            time.sleep(0.01)


def mlledger_start(folder: Path) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*MLLEDGER, "serve", "--port", str(port), "--no-access-log"],
        cwd=folder,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        healthy = until_healthy(f"{url}/api/v1/health", proc, started)
        line = None
        assert proc.stdout is not None
        while line is None:  # the URL line is printed once health answers: it is there by now
            text = proc.stdout.readline()
            if text.startswith("mlledger serving at"):
                line = time.perf_counter() - started
        while httpx.get(f"{url}/api/v1/health").json()["features"] != "ready":
            time.sleep(0.02)
        ready = time.perf_counter() - started
        return {"healthy": healthy, "url_line": line, "features_ready": ready}
    finally:
        stop(proc)


def mlflow_start(mlflow: str, folder: Path) -> float:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            mlflow,
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--default-artifact-root",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=folder,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return until_healthy(f"http://127.0.0.1:{port}/health", proc, started)
    finally:
        stop(proc)


def wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv}: {done.stdout}{done.stderr}")
    return took


def client_commands(mlflow: str, rounds: int) -> dict[str, list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="startup-cli-"))
    port, fport = free_port(), free_port()
    ours = subprocess.Popen(
        [*MLLEDGER, "serve", "--port", str(port), "--no-access-log"],
        cwd=folder,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    theirs = subprocess.Popen(
        [
            *[mlflow, "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}"],
            *["--default-artifact-root", str(folder / "art"), "--port", str(fport)],
            *["--workers", "1"],
        ],
        cwd=folder,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        until_healthy(f"http://127.0.0.1:{port}/api/v1/health", ours, time.perf_counter())
        until_healthy(f"http://127.0.0.1:{fport}/health", theirs, time.perf_counter())
        env = clean_env() | {"MLLEDGER_URL": f"http://127.0.0.1:{port}"}
        fenv = clean_env() | {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{fport}"}
        cases = {
            "mlledger runs list": ([*MLLEDGER, "runs", "list"], env),
            "mlledger gate model --help": ([*MLLEDGER, "gate", "model", "--help"], env),
            "mlledger --version": ([*MLLEDGER, "--version"], env),
            "mlflow runs list": ([mlflow, "runs", "list", "--experiment-id", "0"], fenv),
            "mlflow --version": ([mlflow, "--version"], fenv),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, (argv, e) in cases.items():
                times[name].append(wall(argv, e))
        return times
    finally:
        for proc in (ours, theirs):
            stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(values):.2f} / {p95:.2f} / {max(values):.2f}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mlflow-venv", required=True)
    p.add_argument("--rounds", type=int, default=10)
    a = p.parse_args()
    mlflow = str((Path(a.mlflow_venv) / "bin" / "mlflow").absolute())
    ours: dict[str, list[float]] = {}
    theirs: dict[str, list[float]] = {"first start": [], "second start": []}
    for _ in range(a.rounds):
        for label in ("first start", "second start"):
            folder = Path(tempfile.mkdtemp(prefix="startup-"))
            if label == "second start":
                mlledger_start(folder)
                mlflow_start(mlflow, folder)
            for key, value in mlledger_start(folder).items():
                ours.setdefault(f"{label}: {key}", []).append(value)
            theirs[label].append(mlflow_start(mlflow, folder))
            shutil.rmtree(folder, ignore_errors=True)
    print(f"## Server start-up, seconds (p50 / p95 / max of {a.rounds} rounds, interleaved)\n")
    print("| | mlledger serve | mlflow server | ratio (p50) |")
    print("|---|---|---|---|")
    for label in ("first start", "second start"):
        mine = ours[f"{label}: healthy"]
        print(
            f"| {label}: first healthy answer | {summary(mine)} | {summary(theirs[label])} "
            f"| {statistics.median(theirs[label]) / statistics.median(mine):.1f}x faster |"
        )
        print(f"| {label}: the URL line printed | {summary(ours[f'{label}: url_line'])} | | |")
        print(
            f"| {label}: Feast loaded (background) | "
            f"{summary(ours[f'{label}: features_ready'])} | | |"
        )
    times = client_commands(mlflow, a.rounds)
    print(f"\n## Client commands, seconds wall (p50 / p95 / max of {a.rounds})\n")
    print("| command | time |")
    print("|---|---|")
    for name, values in times.items():
        print(f"| `{name}` | {summary(values)} |")


if __name__ == "__main__":
    main()
