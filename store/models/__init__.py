"""ORM rows. Imported by Alembic's env so autogenerate sees every table."""

from .audit import AuditRow
from .base import Base
from .lineage import (
    ArtifactRow,
    ArtifactSeriesRow,
    AssociationRow,
    AttributionRow,
    ContextRow,
    EventRow,
    ExecutionRow,
)
from .project import ProjectRow, TokenRow

__all__ = [
    "ArtifactRow",
    "ArtifactSeriesRow",
    "AssociationRow",
    "AttributionRow",
    "AuditRow",
    "Base",
    "ContextRow",
    "EventRow",
    "ExecutionRow",
    "ProjectRow",
    "TokenRow",
]
