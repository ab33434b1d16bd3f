"""Property-based fuzzing of every REST operation from the OpenAPI spec (schemathesis):
no 5xx, every status code documented, every response body matching its schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.pytest.from_fixture("api_schema")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_spec(case, project_name):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers={"X-Mlledger-Project": project_name}, checks=CHECKS)
