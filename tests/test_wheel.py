"""What users get is what was tested: a wheel built from the tree, installed (not editable)
into a fresh environment from the service lock, starts the server, serves the API and the
built explorer — and carries none of the explorer's sources."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
from _support.servers import clean_env, free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".venv" / "bin" / "uv"


def test_a_built_wheel_installs_and_serves(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    # setuptools copies into ./build and never removes what is no longer in the tree there: a
    # module moved away would still ship. Build from nothing.
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    subprocess.run([str(UV), "build", "--wheel", "-q", "-o", str(out), str(ROOT)], check=True)
    (wheel,) = out.glob("mlledger-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    # Exactly the tree's modules: none missing (discovered, not listed), none stale.
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    # ...plus MLMD's modules, generated at build time (scripts/mlmd_protos.py), never tracked.
    generated = [str(p.relative_to(ROOT)) for p in (ROOT / "service/mlmd/proto").glob("*.py")]
    assert generated, "scripts/bootstrap generates service/mlmd/proto"
    expected = {
        f"mlledger/{p}"
        for p in [*tracked, *generated]
        if p.split("/")[0] in {"client", "service", "store", "validation", "migrations", "ui"}
        or p == "__init__.py"
    }
    assert {n for n in names if n.endswith(".py")} - {"mlledger/setup.py"} == expected
    assert "mlledger/store/features/online/redis_store.py" in names
    assert "mlledger/ui/dist/index.html" in names
    assert not [n for n in names if "/ui/src/" in n or "node_modules" in n or "package" in n]
    assert not [n for n in names if n.startswith(("tests/", "bench/", "mlledger/tests"))]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    lock = ROOT / "requirements" / "service.lock"
    subprocess.run([str(UV), "pip", "sync", "-q", "--python", str(python), str(lock)], check=True)
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(python), "--no-deps", str(wheel)],
        check=True,
    )
    folder = tmp_path / "empty"
    folder.mkdir()
    env = clean_env()
    env.pop("PYTHONPATH", None)
    port, grpc_port = free_port(), free_port()
    server = subprocess.Popen(
        [
            str(venv / "bin" / "mlledger"),
            "serve",
            "--port",
            str(port),
            "--grpc-port",
            str(grpc_port),
        ],
        cwd=folder,  # not the repository: nothing can be imported from the tree
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server)
        ui = httpx.get(f"{url}/ui/", timeout=10)
        assert ui.status_code == 200 and "<html" in ui.text.lower()
        where = subprocess.run(
            [str(python), "-c", "import mlledger, sys; print(mlledger.__file__)"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert str(venv) in where  # the installed copy, not the tree
        # The MLMD listener answers from the wheel's generated modules.
        ask = (
            "import grpc, sys\n"
            "from mlledger.service.mlmd.proto import metadata_store_service_pb2 as m\n"
            "from mlledger.service.mlmd.proto import metadata_store_service_pb2_grpc as g\n"
            "stub = g.MetadataStoreServiceStub(grpc.insecure_channel(sys.argv[1]))\n"
            "got = stub.GetArtifactTypes(m.GetArtifactTypesRequest(), timeout=30)\n"
            "print(' '.join(t.name for t in got.artifact_types))\n"
        )
        answer = subprocess.run(
            [str(python), "-c", ask, f"127.0.0.1:{grpc_port}"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
        )
        assert answer.returncode == 0, answer.stderr
        assert "dataset" in answer.stdout.split()  # mlledger's kinds, as MLMD types
    finally:
        server.terminate()
        server.wait(timeout=30)
