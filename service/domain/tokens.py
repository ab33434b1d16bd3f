"""API tokens: created by an admin (or by `mlledger token create` on the server host)."""

from __future__ import annotations

from mlledger.store.database import Database
from mlledger.store.entities import Scope, Token
from mlledger.store.metadata import audit, projects

from .principal import Principal


def create_for_project(
    db: Database, project_name: str, *, name: str, scope: Scope, actor: str
) -> tuple[str, Token]:
    """Create (if needed) the project and a token in it; the secret is shown once."""
    with db.write() as session:
        project = projects.get_or_create_project(session, project_name)
        secret, token = projects.create_token(session, project, name=name, scope=scope)
        audit.record(
            session,
            project.id,
            actor,
            [audit.AuditEntry("token.create", "token", token.id, {"name": name, "scope": scope})],
        )
        return secret, token


def create(db: Database, who: Principal, *, name: str, scope: Scope) -> tuple[str, Token]:
    """A new token in the caller's own project. Needs admin."""
    who.require("admin")
    return create_for_project(db, who.project_name, name=name, scope=scope, actor=who.actor)
