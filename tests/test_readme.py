"""The README's examples, executed (Datasette's habit), so the README cannot drift from the code.

One real `mlledger serve`, started with no MLLEDGER_* variables in an empty folder — the new
user's first steps — and, in the README's order: every fenced Python block (a block whose first
line is `# path/to/file.py` is that file, written rather than run; one that begins `import
mlflow` runs in MLflow's own venv against the server), every fenced shell block
made of `curl`, `mlledger features`, variable assignments and `printf` (each curl must succeed:
`--fail-with-body`), every GraphQL block (no errors), and the model gate's JSON. The only things
the test supplies are the data files the examples name and the training loop's `losses`.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from _support.servers import clean_env, free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w+)\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
RUNNABLE = ("curl ", "mlledger features ", "URL=", "printf ")


def blocks() -> list[tuple[str, str]]:
    found = []
    for m in FENCE.finditer((ROOT / "README.md").read_text()):
        indent = len(m["indent"])
        body = "".join(line[indent:] for line in m["body"].splitlines(keepends=True))
        found.append((m["lang"], body))
    return found


def commands(body: str) -> list[str]:
    """A shell block's commands: continuation lines and open quotes joined, comments dropped."""
    out: list[str] = []
    pending = ""
    for line in body.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        if pending.rstrip().endswith("\\"):
            continue
        text = re.sub(r"\s+#[^'\"]*$", "", pending).strip()
        if text and not text.startswith("#"):
            out.append(text)
        pending = ""
    return out


def runnable(body: str) -> bool:
    cmds = commands(body)
    return bool(cmds) and all(c.startswith(RUNNABLE) for c in cmds)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The user's folder with the files the examples name, and the server started in it."""
    from _support.feature_repo import DRIVERS, driver_frame

    folder = tmp_path_factory.mktemp("readme")
    (folder / "data").mkdir()
    now = datetime.now(UTC).replace(microsecond=0)
    driver_frame(DRIVERS, hours=6, end=now).to_parquet(folder / "data" / "driver_stats.parquet")
    driver_frame(DRIVERS[:2], hours=2, end=now, seed=1).to_parquet(folder / "data/train.parquet")
    (folder / "reports").mkdir()
    (folder / "reports" / "confusion.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "model").mkdir()
    (folder / "model" / "weights.bin").write_bytes(b"weights")
    port = free_port()
    env = clean_env()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlledger.client", "serve", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, server)
    env |= {"MLLEDGER_URL": url, "MLLEDGER_SPOOL_DIR": str(folder / "spool")}
    yield folder, url, port, env
    server.terminate()
    server.wait(timeout=30)


def test_every_example_of_the_readme_runs(story: Any) -> None:
    folder, url, port, env = story
    ran = {"python": 0, "sh": 0, "graphql": 0, "json": 0, "mlflow": 0}
    for lang, body in blocks():
        if lang == "python" and body.startswith("import mlflow\n"):  # MLflow's own client
            from _support.mlflow_client import run_mlflow

            run_mlflow(body + "\nout('ok')\n", url, cwd=folder)
            ran["mlflow"] += 1
            continue
        if lang == "python":
            first = body.splitlines()[0]
            if first.startswith("# ") and first.endswith(".py"):  # a file of the story
                path = folder / first[2:].strip()
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body)
                continue
            script = folder / f"example_{ran['python']}.py"
            script.write_text("losses = [0.9, 0.6, 0.4]  # the training loop's, given\n" + body)
            done = subprocess.run(
                [sys.executable, str(script)],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, f"{body}\n{done.stdout}\n{done.stderr}"
        elif lang == "sh" and runnable(body):
            script = "set -euo pipefail\n" + "\n".join(
                c.replace("localhost:8080", f"localhost:{port}")
                .replace("127.0.0.1:8080", f"127.0.0.1:{port}")
                .replace("curl ", "curl --fail-with-body ", 1)
                if c.startswith("curl ")
                else c.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
                for c in commands(body)
            )
            done = subprocess.run(
                ["bash", "-c", script],
                cwd=folder,
                env={**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
        elif lang == "graphql":
            answer = httpx.post(f"{url}/graphql", json={"query": body}, timeout=60).json()
            assert "errors" not in answer, (body, answer)
            assert all(v is not None for v in answer["data"].values()), (body, answer)
        elif lang == "json" and '"thresholds"' in body:
            api = httpx.Client(base_url=f"{url}/api/v1", timeout=60)
            assert api.post("/models", json={"name": "churn"}).status_code in (200, 201)
            gate = api.put("/models/churn/gate", json=json.loads(body))
            assert gate.status_code == 200, gate.text
        else:
            continue
        ran[lang] += 1
    # Nothing skipped silently: the story's blocks all ran (update when the README grows).
    assert ran == {"python": 2, "sh": 6, "graphql": 2, "json": 1, "mlflow": 1}, ran
