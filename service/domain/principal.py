"""Who is calling, in which project, allowed to do what."""

from __future__ import annotations

from dataclasses import dataclass

from mlledger.store.entities import Scope
from mlledger.store.errors import PermissionDenied

_RANK = {"read": 0, "write": 1, "admin": 2}


@dataclass(frozen=True, slots=True)
class Principal:
    project_id: int
    project_name: str
    scope: Scope
    actor: str  # "token:<id>:<name>" or "local" — what the audit log records

    def require(self, scope: Scope) -> None:
        """Raises PermissionDenied unless this principal holds `scope` (admin > write > read)."""
        if _RANK[self.scope] < _RANK[scope]:
            raise PermissionDenied(
                f"this token has scope {self.scope!r}; the request needs {scope!r}",
                details={"have": self.scope, "need": scope},
            )
