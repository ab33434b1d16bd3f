"""Who is calling, in which project, allowed to do what."""

from __future__ import annotations

from dataclasses import dataclass

from mlledger.store.entities import Scope
from mlledger.store.errors import PermissionDenied

_RANK = {"read": 0, "write": 1, "admin": 2}
LOCAL = "local"  # the actor of anonymous requests on a loopback server (explicit dev mode)


@dataclass(frozen=True, slots=True)
class Principal:
    project_id: int
    project_name: str
    scope: Scope
    actor: str  # "token:<id>:<name>" or "local" — what the audit log records

    def require(self, scope: Scope) -> None:
        """Raises PermissionDenied unless this principal holds `scope` (admin > write > read).

        `worker` is apart from that order: a worker token may lease, renew and report
        validation jobs and nothing else, and only a worker token (or the anonymous local
        developer, who may do everything) may do those — so no read/write/admin token can
        forge a data gate's verdict."""
        if scope == "worker" or self.scope == "worker":
            if self.scope == scope or (scope == "worker" and self.actor == LOCAL):
                return
            raise PermissionDenied(
                f"this token has scope {self.scope!r}; the request needs {scope!r}"
                + (
                    " (only worker tokens lease and report validation jobs)"
                    if scope == "worker"
                    else ""
                ),
                details={"have": self.scope, "need": scope},
            )
        if _RANK[self.scope] < _RANK[scope]:
            raise PermissionDenied(
                f"this token has scope {self.scope!r}; the request needs {scope!r}",
                details={"have": self.scope, "need": scope},
            )
