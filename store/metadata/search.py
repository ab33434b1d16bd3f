"""Find things by name across the graph: artifact names (one hit per name, at its latest
version), runs and registered models — what a person types into the explorer's search box."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..kinds import ARTIFACT_KINDS
from ..tables import (
    ArtifactRow,
    ArtifactSeriesRow,
    ContextRow,
    ExecutionRow,
    RegisteredModelRow,
    RunRow,
)

KINDS = (*ARTIFACT_KINDS, "run", "registered_model")


@dataclass(frozen=True, slots=True)
class Hit:
    node_id: str  # artifact:12, execution:7, model:<name>
    kind: str
    name: str
    version: int | None
    detail: str | None  # a run's experiment


def _pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    session: Session, project_id: int, text: str, kinds: Sequence[str], limit: int
) -> list[Hit]:
    """Names containing `text` (any case), shortest first (the closest match), then by name."""
    like = _pattern(text)
    wanted = set(kinds or KINDS)
    hits: list[Hit] = []
    artifact_kinds = [k for k in ARTIFACT_KINDS if k in wanted]
    if artifact_kinds:
        found = session.execute(
            select(ArtifactRow.id, ArtifactRow.kind, ArtifactRow.name, ArtifactRow.version)
            .join(
                ArtifactSeriesRow,
                and_(
                    ArtifactSeriesRow.project_id == ArtifactRow.project_id,
                    ArtifactSeriesRow.name == ArtifactRow.name,
                    ArtifactSeriesRow.last_version == ArtifactRow.version,
                ),
            )
            .where(
                ArtifactSeriesRow.project_id == project_id,
                ArtifactSeriesRow.kind.in_(artifact_kinds),
                func.lower(ArtifactSeriesRow.name).like(like, escape="\\"),
            )
            .order_by(func.length(ArtifactSeriesRow.name), ArtifactSeriesRow.name)
            .limit(limit)
        )
        hits += [Hit(f"artifact:{i}", k, n, v, None) for i, k, n, v in found]
    if "run" in wanted:
        runs = session.execute(
            select(ExecutionRow.id, ExecutionRow.name, RunRow.uuid, ContextRow.name)
            .join(RunRow, RunRow.execution_id == ExecutionRow.id)
            .join(ContextRow, ContextRow.id == RunRow.experiment_id)
            .where(
                RunRow.project_id == project_id,
                or_(
                    func.lower(ExecutionRow.name).like(like, escape="\\"),
                    func.lower(RunRow.uuid).like(like, escape="\\"),
                ),
            )
            .order_by(ExecutionRow.id.desc())
            .limit(limit)
        )
        hits += [Hit(f"execution:{i}", "run", n or u, None, e) for i, n, u, e in runs]
    if "registered_model" in wanted:
        models = session.execute(
            select(RegisteredModelRow.name, RegisteredModelRow.last_version)
            .where(
                RegisteredModelRow.project_id == project_id,
                func.lower(RegisteredModelRow.name).like(like, escape="\\"),
            )
            .order_by(func.length(RegisteredModelRow.name), RegisteredModelRow.name)
            .limit(limit)
        )
        hits += [Hit(f"model:{n}", "registered_model", n, v, None) for n, v in models]
    return hits[: limit * 3]
