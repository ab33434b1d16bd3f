"""Write docs/configuration.md from the Settings object, so the reference cannot go stale.

.venv/bin/python scripts/settings_doc.py          # rewrite the file
.venv/bin/python scripts/settings_doc.py --check  # exit 1 if it is out of date (the tests do)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from mlledger.service.settings import Settings

OUT = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"

HEADER = """# Configuration

mlledger's server reads one settings object from `MLLEDGER_*` environment variables, once, at
start-up (`service/settings.py`). Nested sections use a double underscore. This page is generated
by `scripts/settings_doc.py`; a test fails when it is out of date.

| variable | default | what it does |
|---|---|---|
"""


def settings_fields(
    model: type[BaseModel], prefix: str = "MLLEDGER_"
) -> Iterator[tuple[str, FieldInfo]]:
    """(environment variable, field) for every leaf setting, nested sections flattened."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from settings_fields(annotation, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}", field


def render() -> str:
    rows = []
    for env, field in settings_fields(Settings):
        shown = "(none)" if field.default is None else f"`{field.default}`"
        rows.append(f"| `{env}` | {shown} | {field.description} |")
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text() == text else 1)
    OUT.write_text(text)
