"""Impact analysis in GraphQL: the model versions downstream of a dataset (REST's
`/api/v1/lineage/impact`, the same domain call; the dataset itself is `artifact(id)`, and
REST's answer also says whether the walk was cut and lists unregistered model artifacts)."""

from __future__ import annotations

import asyncio

import strawberry

from mlledger.store.errors import InvalidArgument

from ..domain import impact as impact_cases
from ..domain import openlineage as lineage_in
from .context import Ctx
from .explorer import PushEntry


@strawberry.type
class ImpactedVersion:
    model: str
    version: int
    artifact_id: int
    aliases: list[str]
    status: str | None = strawberry.field(description="blessed, not_blessed, refused or null")
    gated: bool
    all_pushes: strawberry.Private[list[PushEntry]]

    @strawberry.field(description="Newest first (at most 20 are looked up).")
    def pushes(self, first: int = 20) -> list[PushEntry]:
        return self.all_pushes[: max(0, first)]


async def impact_of(
    info: Ctx, artifact_id: int | None, namespace: str | None, name: str | None, first: int
) -> list[ImpactedVersion]:
    c = info.context
    if artifact_id is None:
        if namespace is None or name is None:
            raise InvalidArgument(
                "name the dataset by artifactId, or by namespace and name",
                details={"field": "artifactId"},
            )
        found = await asyncio.to_thread(lineage_in.dataset_artifact, c.db, c.who, namespace, name)
        artifact_id = found.id
    done = await asyncio.to_thread(impact_cases.of_dataset, c.db, c.who, artifact_id)
    return [
        ImpactedVersion(
            model=m.model,
            version=m.version,
            artifact_id=m.artifact_id,
            aliases=m.aliases,
            status=m.status,
            gated=m.gated,
            all_pushes=[PushEntry.of(p) for p in m.pushes],
        )
        for m in done.models
    ][: max(0, first)]
