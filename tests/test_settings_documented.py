"""Every setting is documented (Datasette's rule): a new field without a line in
docs/configuration.md fails here."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from mlledger.service.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def env_names(model: type[BaseModel], prefix: str = "MLLEDGER_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += env_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_documented():
    text = DOCS.read_text()
    missing = [n for n in env_names(Settings) if f"`{n}`" not in text]
    assert missing == [], f"document these in {DOCS.name}: {missing}"


def test_the_reference_is_generated_from_the_settings():
    import runpy

    doc = runpy.run_path(str(DOCS.parents[1] / "scripts" / "settings_doc.py"))
    assert DOCS.read_text() == doc["render"](), "run scripts/settings_doc.py"


def test_every_setting_has_a_description():
    def undescribed(model: type[BaseModel]) -> list[str]:
        out = []
        for name, field in model.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                out += undescribed(field.annotation)
            elif not field.description:
                out.append(name)
        return out

    assert undescribed(Settings) == []


def test_environment_is_read_once_into_the_object(monkeypatch):
    monkeypatch.setenv("MLLEDGER_LINEAGE__MAX_NODES", "123")
    monkeypatch.setenv("MLLEDGER_AUTH", "required")
    s = Settings()
    assert s.lineage.max_nodes == 123 and s.auth == "required" and not s.anonymous_allowed
