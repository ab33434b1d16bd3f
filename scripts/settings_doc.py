"""Write docs/configuration.md from the Settings object, so the reference cannot go stale.

.venv/bin/python scripts/settings_doc.py          # rewrite the file
.venv/bin/python scripts/settings_doc.py --check  # exit 1 if it is out of date (the tests do)
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel

from mlledger.service.settings import Settings

OUT = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"

HEADER = """# Configuration

mlledger's server reads one settings object from `MLLEDGER_*` environment variables, once, at
start-up (`service/settings.py`). Nested sections use a double underscore. This page is generated
by `scripts/settings_doc.py`; a test fails when it is out of date.

| variable | default | what it does |
|---|---|---|
"""


def rows(model: type[BaseModel], prefix: str = "MLLEDGER_") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += rows(annotation, f"{prefix}{name.upper()}__")
            continue
        default = field.default
        shown = "(none)" if default is None else f"`{default}`"
        out.append(f"| `{prefix}{name.upper()}` | {shown} | {field.description} |")
    return out


def render() -> str:
    return HEADER + "\n".join(rows(Settings)) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text() == text else 1)
    OUT.write_text(text)
