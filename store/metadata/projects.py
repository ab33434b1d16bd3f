"""Projects and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..entities import Project, Scope, Token
from ..errors import NotFound
from ..features import names
from ..tables import ProjectRow, TokenRow
from ..tables.base import utcnow
from . import bulk

TOKEN_PREFIX = "mll_"


def _project(row: ProjectRow) -> Project:
    return Project(id=row.id, name=row.name, created_at=row.created_at)


def hash_token(secret: str) -> str:
    """Tokens carry 256 random bits, so a fast hash is as safe as a slow one and costs nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def get_project(session: Session, name: str) -> Project:
    row = session.scalar(select(ProjectRow).where(ProjectRow.name == name))
    if row is None:
        raise NotFound(f"project {name!r} does not exist", details={"project": name})
    return _project(row)


def get_or_create_project(session: Session, name: str) -> Project:
    """Race-free: concurrent first requests for one project all get the same row."""
    row = session.scalar(select(ProjectRow).where(ProjectRow.name == name))
    if row is None:
        session.execute(
            bulk.dialect_insert(session)(ProjectRow)
            .values(name=name, created_at=utcnow())
            .on_conflict_do_nothing()
        )
        row = session.scalars(select(ProjectRow).where(ProjectRow.name == name)).one()
    return _project(row)


def create_token(
    session: Session, project: Project, *, name: str, scope: Scope
) -> tuple[str, Token]:
    """Create a token; the secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = TokenRow(
        project_id=project.id,
        name=name,
        prefix=secret[:12],
        token_hash=hash_token(secret),
        scope=scope,
    )
    session.add(row)
    session.flush()
    return secret, _token(row, project.name)


def find_token(session: Session, secret: str) -> Token | None:
    """The live token with this secret, or None."""
    found = session.execute(
        select(TokenRow, ProjectRow.name)
        .join(ProjectRow, ProjectRow.id == TokenRow.project_id)
        .where(TokenRow.token_hash == hash_token(secret), TokenRow.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    return _token(found[0], found[1])


def _token(row: TokenRow, project_name: str) -> Token:
    return Token(
        id=row.id,
        project_id=row.project_id,
        project_name=project_name,
        name=row.name,
        prefix=row.prefix,
        scope=row.scope,  # type: ignore[arg-type]
        created_at=row.created_at,
    )


def feast_project(session: Session, project_id: int) -> str:
    """The Feast project of a project, recorded on first use (store/features/names.py).

    A name an older project already holds under the old mapping is not taken again: the
    newcomer gets `<name>_n<id>`, which no encoding produces."""
    row = session.get(ProjectRow, project_id, with_for_update=True)
    if row is None:
        raise NotFound(f"project {project_id} does not exist")
    if row.feast_project:
        return row.feast_project
    candidate = names.encode(row.name)
    taken = session.scalar(
        select(ProjectRow.id).where(
            ProjectRow.feast_project == candidate, ProjectRow.id != project_id
        )
    )
    if taken is not None:
        candidate = f"{candidate}_n{row.id}"
    row.feast_project = candidate
    session.flush()
    return candidate
