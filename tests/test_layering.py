"""DESIGN.md's layering, checked: the client pulls in no server code, the store no web code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imports_of(folder: str, *, besides: tuple[str, ...] = ()) -> set[str]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        if path.name in besides:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return found


def test_store_imports_neither_service_nor_web():
    bad = {
        m
        for m in imports_of("store")
        if m.split(".")[0] in {"fastapi", "starlette", "strawberry"}
        or m.startswith(("mlledger.service", "mlledger.validation", "mlledger.client"))
    }
    assert bad == set()


def test_client_imports_nothing_of_the_server():
    # feast_repo.py reads the user's own Feast repo for `features apply`: Feast is the user's
    # library there (imported in that function only), not the server.
    bad = {
        m
        for m in imports_of("client", besides=("feast_repo.py",))
        if m.split(".")[0] in {"fastapi", "sqlalchemy", "feast", "tensorflow", "strawberry"}
        or m.startswith(("mlledger.service", "mlledger.store", "mlledger.validation"))
    }
    assert bad == set()
    repo_reader = imports_of_file(ROOT / "client" / "feast_repo.py")
    assert {m for m in repo_reader if m.startswith("mlledger.")} == set()


def imports_of_file(path: Path) -> set[str]:
    return {
        n.module
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.ImportFrom) and n.module and n.level == 0
    }


def test_importing_the_client_loads_no_server_module():
    code = (
        "import sys, mlledger, mlledger.client, mlledger.client._cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'fastapi', 'sqlalchemy', 'feast', 'strawberry', 'tensorflow'} "
        "or m.startswith('mlledger.store')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_validation_reaches_the_service_only_through_the_client():
    bad = {
        m
        for m in imports_of("validation")
        if m.split(".")[0] in {"fastapi", "starlette", "strawberry", "sqlalchemy", "feast"}
        or m.startswith("mlledger.service")
    }
    assert bad == set()
    # Its TFDV side runs in the validator environment, which has no store at all.
    for module in ("worker.py", "checks.py", "cli.py"):
        tree = ast.parse((ROOT / "validation" / module).read_text())
        names = {
            n.module
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module and n.level == 0
        }
        assert not {m for m in names if m.startswith("mlledger.store")}, module
