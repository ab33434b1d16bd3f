"""`pip install mlledger` (no extras) is the light client: a real wheel built from this tree,
installed beside only the client's locked dependencies, imports and runs without the server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_base_install_is_light(tmp_path: Path):
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is installed by scripts/bootstrap"
    venv = tmp_path / "venv"
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, text=True)  # noqa: E731
    run(uv, "venv", "-q", "--python", sys.executable, str(venv))
    python = str(venv / "bin" / "python")
    run(
        uv, "pip", "install", "-q", "--python", python, "-r", str(ROOT / "requirements/client.lock")
    )
    run(uv, "pip", "install", "-q", "--python", python, "--no-deps", str(ROOT))

    probe = run(
        python,
        "-c",
        "import importlib.util as u, mlledger, mlledger.client; "
        "print(mlledger.__version__, [m for m in ('fastapi', 'sqlalchemy', 'feast', "
        "'strawberry') if u.find_spec(m)])",
    )
    assert probe.stdout.split(" ", 1)[1].strip() == "[]"

    cli = run(str(venv / "bin" / "mlledger"), "--help")
    assert "serve" in cli.stdout  # listed, and explains the missing extra instead of crashing
    serve = subprocess.run(
        [str(venv / "bin" / "mlledger"), "serve", "--port", "1"], capture_output=True, text=True
    )
    assert serve.returncode == 1 and "mlledger[server]" in serve.stderr, serve.stderr

    # The wheel carries the migrations (package data) that `mlledger db upgrade` needs.
    site = run(
        python,
        "-c",
        "import importlib.util as u, pathlib; "
        "d = u.find_spec('mlledger.migrations').submodule_search_locations[0]; "
        "print(sorted(p.name for p in pathlib.Path(d).rglob('*.*')))",
    )
    for name in ("script.py.mako", "env.py", "0001_initial_schema.py"):
        assert name in site.stdout
