"""ORM rows. Imported by Alembic's env so autogenerate sees every table."""

from .audit import AuditRow
from .base import Base
from .data_gates import BlobRow, DataGateRow, ValidationJobRow
from .files import FileRow
from .lineage import (
    ArtifactRow,
    ArtifactSeriesRow,
    AssociationRow,
    AttributionRow,
    ContextRow,
    EventRow,
    ExecutionRow,
)
from .mlmd import MlmdEventRow, MlmdNodeRow, MlmdTypeRow, ParentContextRow
from .openlineage import ExternalIdRow, LineageEventRow
from .project import ProjectRow, TokenRow
from .registry import (
    ModelAliasRow,
    ModelEvaluationRow,
    ModelGateRow,
    ModelPushRow,
    ModelVersionRow,
    RegisteredModelRow,
)
from .tracking import IdempotencyKeyRow, LatestMetricRow, MetricChunkRow, RunFieldRow, RunRow

__all__ = [
    "ArtifactRow",
    "ArtifactSeriesRow",
    "AssociationRow",
    "AttributionRow",
    "AuditRow",
    "Base",
    "BlobRow",
    "ContextRow",
    "DataGateRow",
    "EventRow",
    "ExecutionRow",
    "ExternalIdRow",
    "FileRow",
    "IdempotencyKeyRow",
    "LatestMetricRow",
    "LineageEventRow",
    "MetricChunkRow",
    "MlmdEventRow",
    "MlmdNodeRow",
    "MlmdTypeRow",
    "ModelAliasRow",
    "ModelEvaluationRow",
    "ModelGateRow",
    "ModelPushRow",
    "ModelVersionRow",
    "ParentContextRow",
    "ProjectRow",
    "RegisteredModelRow",
    "RunFieldRow",
    "RunRow",
    "TokenRow",
    "ValidationJobRow",
]
