"""Impact analysis: every model version downstream of a dataset — through the jobs that
transformed it, the feature views that read it, the training sets and runs — with its gate
status and its pushes, in one call ("which models does this broken upstream table feed?")."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlledger.store.database import Database
from mlledger.store.entities import Artifact, Push
from mlledger.store.metadata import artifacts, external_ids, lineage
from mlledger.store.registry import blessings, models, pushes
from mlledger.store.tables import ArtifactRow

from .lineage import model_statuses
from .openlineage_datasets import column_key
from .principal import Principal

MAX_NODES = 200_000  # artifacts a walk visits; beyond, the answer says it was cut
VERSIONS = 50  # the dataset's newest versions walked from
PUSHES = 20  # of each model, newest first


@dataclass(frozen=True, slots=True)
class ImpactedVersion:
    model: str
    version: int
    artifact_id: int
    aliases: list[str]
    status: str | None  # blessed | not_blessed | refused | None (never evaluated)
    gated: bool
    pushes: list[Push] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Impact:
    dataset: Artifact
    versions_walked: list[int]
    models: list[ImpactedVersion]
    unregistered_models: list[Artifact]  # model artifacts downstream that no registry names
    truncated: bool


def of_dataset(
    db: Database, who: Principal, artifact_id: int, *, walk: int | None = None
) -> Impact:
    """Downstream of every version of the artifact's series (the newest VERSIONS of them), or
    of the artifact alone (`walk=1`).

    Raises:
        NotFound: no such artifact in the project.
    """
    who.require("read")
    with db.read() as session:
        root = artifacts.get(session, who.project_id, artifact_id)
        ids = (
            [root.id]
            if walk == 1
            else list(
                session.scalars(
                    select(ArtifactRow.id)
                    .where(ArtifactRow.project_id == who.project_id, ArtifactRow.name == root.name)
                    .order_by(ArtifactRow.version.desc())
                    .limit(walk or VERSIONS)
                )
            )
        )
        out, unregistered, truncated = _downstream(session, who, ids)
        return Impact(root, ids, out, unregistered, truncated)


def _downstream(
    session: Session, who: Principal, ids: list[int]
) -> tuple[list[ImpactedVersion], list[Artifact], bool]:
    """The registered model versions (and unregistered model artifacts) downstream of any of
    `ids`, from one walk, with each version's aliases, gate status and pushes."""
    found, truncated = lineage.downstream_models(session, who.project_id, ids, max_nodes=MAX_NODES)
    registered = models.versions_of_artifacts(session, who.project_id, found)
    statuses = model_statuses(session, who.project_id, found)
    by_model: dict[str, list[Push]] = {}
    out: list[ImpactedVersion] = []
    unregistered: list[Artifact] = []
    gated: dict[str, bool] = {}
    for art_id in found:
        versions = registered.get(art_id, [])
        if not versions:
            unregistered.append(artifacts.get(session, who.project_id, art_id))
        for v in versions:
            if v.model not in by_model:
                by_model[v.model] = pushes.list_pushes(
                    session, who.project_id, v.model, alias=None, limit=PUSHES, cursor=None
                ).items
                model = models.get_model(session, who.project_id, v.model)
                gated[v.model] = blessings.get_gate(session, model.id) is not None
            out.append(
                ImpactedVersion(
                    model=v.model,
                    version=v.version,
                    artifact_id=art_id,
                    aliases=sorted(v.aliases),
                    status=statuses.get(art_id),
                    gated=gated[v.model],
                    pushes=[p for p in by_model[v.model] if p.version == v.version],
                )
            )
    out.sort(key=lambda i: (i.model, -i.version))
    return out, unregistered, truncated


COLUMN_DERIVED = 200  # dataset versions a column's impact walks from


@dataclass(frozen=True, slots=True)
class ColumnImpact:
    derived: list[Artifact]  # dataset versions with a column computed from the field
    models: list[ImpactedVersion]
    truncated: bool


def of_column(db: Database, who: Principal, namespace: str, name: str, field: str) -> ColumnImpact:
    """The model versions whose training data used an input field: downstream of every dataset
    version a column of which came from it (ColumnLineageDatasetFacet, one hop), in one walk."""
    who.require("read")
    with db.read() as session:
        ids = external_ids.with_prefix(
            session,
            who.project_id,
            "openlineage",
            "column",
            column_key(namespace, name, field),
            COLUMN_DERIVED + 1,
        )
        derived = artifacts.get_many(session, who.project_id, ids[:COLUMN_DERIVED])
        found, _, truncated = _downstream(session, who, list(derived))
    return ColumnImpact(list(derived.values()), found, truncated or len(ids) > COLUMN_DERIVED)
