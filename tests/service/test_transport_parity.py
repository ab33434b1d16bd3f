"""REST and GraphQL show the same fields of each entity: every field of a store entity is in
its REST schema and on its GraphQL type (camelCase), unless listed here with the reason. A
field added to an entity and forgotten by one transport fails here."""

from __future__ import annotations

import dataclasses
import re

import pytest

from mlledger.service.graphql.schema import build_schema
from mlledger.service.rest import executions, model_gates, models, pushes, runs, schemas
from mlledger.service.settings import Settings
from mlledger.store import entities

# (entity, REST schema, GraphQL type)
PAIRS = [
    (entities.Artifact, schemas.ArtifactOut, "Artifact"),
    (entities.Execution, executions.ExecutionOut, "Execution"),
    (entities.Context, schemas.ContextOut, "Context"),
    (entities.Run, runs.RunOut, "Run"),
    (entities.ModelVersion, models.ModelVersionOut, "ModelVersion"),
    (entities.RegisteredModel, models.RegisteredModelOut, "RegisteredModel"),
    (entities.ModelGate, model_gates.ModelGateOut, "ModelGate"),
    (entities.Evaluation, model_gates.EvaluationOut, "Blessing"),
    (entities.Push, pushes.ModelPushOut, "PushEntry"),
]
# Fields a transport leaves out on purpose.
NOT_SHOWN = {
    "model_id": "a gate is read under its model (REST: by name)",
    "model_version_id": "an evaluation is read under its version (REST: by name and number)",
    "project_id": "the caller's own project: implied by the token (or the project header)",
    "experiment_id": "runs name their experiment; its context id is the lineage graph's business",
}
NOT_ON_GRAPHQL: dict[tuple[str, str], str] = {  # (type, field): why
    ("PushEntry", "model"): "read under its model (Model.pushes)",
}
NOT_ON_REST: dict[tuple[str, str], str] = {  # (schema, field): why
    ("EvaluationOut", "dataset_id"): "shown as `dataset` {id, name, version}",
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


@pytest.fixture(scope="module")
def graphql_types():  # type: ignore[no-untyped-def]
    return build_schema(Settings())._schema.type_map


@pytest.mark.parametrize(("entity", "rest", "type_name"), PAIRS, ids=[p[2] for p in PAIRS])
def test_rest_and_graphql_show_every_field(entity, rest, type_name, graphql_types) -> None:  # type: ignore[no-untyped-def]
    fields = {f.name for f in dataclasses.fields(entity)} - set(NOT_SHOWN)
    missing_rest = sorted(
        f for f in fields - set(rest.model_fields) if (rest.__name__, f) not in NOT_ON_REST
    )
    assert missing_rest == [], f"{rest.__name__} lacks {missing_rest}"
    on_graphql = set(graphql_types[type_name].fields)
    missing_graphql = sorted(
        f for f in fields if camel(f) not in on_graphql and (type_name, f) not in NOT_ON_GRAPHQL
    )
    assert missing_graphql == [], f"GraphQL {type_name} lacks {missing_graphql}"


def test_the_exceptions_are_still_true(graphql_types) -> None:  # type: ignore[no-untyped-def]
    for (type_name, field), _ in NOT_ON_GRAPHQL.items():
        assert camel(field) not in graphql_types[type_name].fields, (type_name, field)
    rest_schemas = {rest.__name__: rest for _, rest, _ in PAIRS}
    for (schema, field), _ in NOT_ON_REST.items():
        assert field not in rest_schemas[schema].model_fields, (schema, field)
    assert all(re.fullmatch(r"[a-z_]+", f) for f in NOT_SHOWN)
