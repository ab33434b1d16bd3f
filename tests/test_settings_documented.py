"""Every setting is documented (Datasette's rule): docs/configuration.md is generated from the
settings object by scripts/settings_doc.py, and these tests fail when it is stale or when a
setting has no description."""

from __future__ import annotations

import runpy
from pathlib import Path

from mlledger.service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "configuration.md"
GENERATOR = runpy.run_path(str(ROOT / "scripts" / "settings_doc.py"))


def test_the_reference_is_generated_from_the_settings():
    assert DOCS.read_text() == GENERATOR["render"](), "run scripts/settings_doc.py"


def test_every_setting_is_documented_and_described():
    text = DOCS.read_text()
    fields = list(GENERATOR["settings_fields"](Settings))
    assert len(fields) >= 16
    assert [env for env, _ in fields if f"`{env}`" not in text] == []
    assert [env for env, field in fields if not field.description] == []


def test_environment_is_read_once_into_the_object(monkeypatch):
    monkeypatch.setenv("MLLEDGER_LINEAGE__MAX_NODES", "123")
    monkeypatch.setenv("MLLEDGER_AUTH", "required")
    s = Settings()
    assert s.lineage.max_nodes == 123 and s.auth == "required" and not s.anonymous_allowed
