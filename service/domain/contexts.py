"""Context use cases: experiments, pipelines and pipeline runs."""

from __future__ import annotations

from mlledger.store.database import Database
from mlledger.store.entities import Context, Page
from mlledger.store.metadata import audit, contexts
from mlledger.store.metadata.contexts import NewContext

from .principal import Principal


def create(db: Database, who: Principal, spec: NewContext) -> Context:
    """Raises AlreadyExists when that kind and name are taken."""
    who.require("write")
    with db.write() as session:
        context = contexts.create(session, who.project_id, spec)
        audit.record(
            session,
            who.project_id,
            who.actor,
            [
                audit.AuditEntry(
                    "context.create",
                    "context",
                    context.id,
                    {"kind": context.kind, "name": context.name},
                )
            ],
        )
        return context


def get(db: Database, who: Principal, context_id: int) -> Context:
    who.require("read")
    with db.read() as session:
        return contexts.get(session, who.project_id, context_id)


def list_page(
    db: Database,
    who: Principal,
    *,
    kind: str | None,
    name: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Context]:
    who.require("read")
    with db.read() as session:
        return contexts.list_page(
            session, who.project_id, kind=kind, name=name, limit=limit, cursor=cursor
        )
