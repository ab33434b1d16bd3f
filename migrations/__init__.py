"""Alembic migrations: one revision chain for SQLite and Postgres.

Run by `mlledger db upgrade`, or by `mlledger serve` when it creates the embedded database;
the server refuses to start on any other database that is not at head.

Importing alembic takes half a second, a quarter of the server's start-up budget, so only
`upgrade` and `downgrade` import it. The start-up check (`current` against `head`) reads what
alembic writes and reads itself: the one-row `alembic_version` table, and the `revision` /
`down_revision` lines of the files under versions/ (a test holds `head` equal to alembic's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).parent
_LINE = re.compile(
    r"""^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:["']([^"']+)["']|None)""", re.M
)


def config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    cfg = config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def head() -> str | None:
    """The revision no other revision comes after (the chain has one head)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (HERE / "versions").glob("[0-9]*.py"):
        found = dict((m.group(1), m.group(2)) for m in _LINE.finditer(path.read_text()))
        if found.get("revision"):
            revisions.add(found["revision"])  # type: ignore[arg-type]
        if found.get("down_revision"):
            parents.add(found["down_revision"])  # type: ignore[arg-type]
    heads = sorted(revisions - parents)
    return heads[-1] if heads else None


def current(engine: Engine) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
