"""CONTRIBUTING.md's module map names every module of the packages, so a newcomer finds each
file from it (a new module without a line there fails here)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("client", "service", "store", "validation", "migrations")


def test_the_module_map_names_every_module() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    block = text.split("## Module map", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"[\w/]+\.py", block)) | set(re.findall(r"([\w]+)/", block))
    missing = []
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if "versions" in rel.parts or path.name == "__init__.py":
                continue
            if path.name not in named:
                missing.append(str(rel))
        for folder in (p for p in (ROOT / top).rglob("*") if p.is_dir()):
            if (folder / "__init__.py").exists() and folder.name not in named:
                missing.append(f"{folder.relative_to(ROOT)}/")
    assert missing == [], f"add these to CONTRIBUTING.md's module map: {missing}"
