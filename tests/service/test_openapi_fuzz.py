"""Property-based fuzzing of every REST operation from the OpenAPI spec (schemathesis), with
all of its checks, against a real `mlledger serve` that requires tokens, on SQLite and on
Postgres: no 5xx; every status, header and body as documented; schema-invalid requests
refused; schema-valid ones accepted; a request without the token refused.

Where a rule cannot be said in JSON Schema, a schema-valid request can still be refused; the
operations that have such rules may answer 400/422 to the positive-data check, each named
below with its rule. Every other operation must accept whatever its schema admits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from _support.servers import Server
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mlledger.service.domain import tokens

RULES_JSON_SCHEMA_CANNOT_STATE = {
    "logMetrics": "keys, values, steps and timestamps have one length",
    "pushFeatures": "every column has the same length",
    "searchRuns": "filter and order_by are a grammar, not a pattern",
    "uploadSchema": "the body parses as a TFDV schema with features",
    "createExecution": "ended_at after started_at; an artifact not both input and output",
    "createExecutions": "refs name an earlier output of the same batch; as createExecution",
    "addExecutionEvents": "refs name an output of the same request",
    "setModelGate": "a value threshold's lower_bound is at most its upper_bound",
    "getHistoricalFeatures": "entity columns have one length and hold the views' join keys",
    "createRun": "started_at is not in the future of the run's own end",
    "applyFeatureDefinitions": "each object is a Feast definition; file sources under data roots",
    "materializeFeatures": "start before end; the views exist",
    "uploadFile": "the path's names are not '.', '..' or empty",
    "downloadFile": "as uploadFile",
    "downloadModelVersionFile": "as uploadFile",
    "downloadModelAliasFile": "as uploadFile",
    "emitLineageEvent": "an event is a run's (with its job), a job's or a dataset's; ISO times",
    "emitLineageEvents": "as emitLineageEvent, for each event of the batch",
    "listLineageEvents": "a job is named by both job_namespace and job_name",
    "getImpact": "the dataset is named by artifact_id, or by namespace and name",
}


@pytest.fixture(scope="session")
def secured_server(db, database_url, tmp_path_factory) -> Iterator[tuple[Server, str]]:  # type: ignore[no-untyped-def]
    project = f"fuzz-{uuid.uuid4().hex[:8]}"
    secret, _ = tokens.create_for_project(db, project, name="fuzz", scope="admin", actor="test")
    s = Server(database_url, tmp_path_factory.mktemp("fuzz"), env={"MLLEDGER_AUTH": "required"})
    s.start()
    yield s, secret
    s.stop()


def _config(token: str) -> SchemathesisConfig:
    lenient = "\n".join(
        f'[[operations]]\ninclude-operation-id = "{op}"\n'
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]\n'
        for op in RULES_JSON_SCHEMA_CANNOT_STATE
    )
    return SchemathesisConfig.from_str(
        "[generation]\nmax-examples = 20\n"
        f'[auth.openapi.HTTPBearer]\nbearer = "{token}"\n' + "\n"
        "[checks]\nenabled = true\n" + lenient
    )


@pytest.fixture
def api_schema(secured_server):  # type: ignore[no-untyped-def]
    server, token = secured_server
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=_config(token))


schema = schemathesis.pytest.from_fixture("api_schema")


# The operations in two halves, two tests: the workers (scripts/test) fuzz them side by side.
GRAPH = r"^/api/v1/(executions|artifacts|contexts|lineage|runs)"
FUZZ = settings(
    max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@pytest.mark.slow
@pytest.mark.timeout(1500)  # minutes of requests; a loaded machine is slow, not wrong
@schema.include(path_regex=GRAPH).parametrize()
@FUZZ
def test_graph_and_runs_conform_to_the_spec(case):  # type: ignore[no-untyped-def]
    case.call_and_validate()


@pytest.mark.slow
@pytest.mark.timeout(1500)
@schema.exclude(path_regex=GRAPH).parametrize()
@FUZZ
def test_everything_else_conforms_to_the_spec(case):  # type: ignore[no-untyped-def]
    case.call_and_validate()
