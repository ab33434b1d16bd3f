"""The one table from domain errors to MLflow's error codes, and MLflow's error body.

MLflow's client branches on `error_code` (a RESOURCE_DOES_NOT_EXIST from get-by-name is what makes
`set_experiment` create the experiment), so the codes are part of the protocol, as is the status
each goes with (MLflow's `ERROR_CODE_TO_HTTP_STATUS`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse

from mlledger.store import errors

PREFIX = "/api/2.0/mlflow"
ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts"
AJAX_PREFIX = "/ajax-api/2.0/mlflow"  # MLflow's UI calls the same API under this prefix

STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "BAD_REQUEST": 400,
    "MALFORMED_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "INVALID_STATE": 409,  # a refusal the caller can resolve (a gate), not a server fault
    "REQUEST_LIMIT_EXCEEDED": 429,
    "TEMPORARILY_UNAVAILABLE": 503,
}

_CODES: dict[type[errors.MlledgerError], str] = {
    errors.PayloadTooLarge: "REQUEST_LIMIT_EXCEEDED",
    errors.InvalidArgument: "INVALID_PARAMETER_VALUE",
    errors.NotFound: "RESOURCE_DOES_NOT_EXIST",
    errors.AlreadyExists: "RESOURCE_ALREADY_EXISTS",
    errors.GateBlocked: "INVALID_STATE",
    # A param that would change value is MLflow's INVALID_PARAMETER_VALUE; the registry's
    # refusals (a version kept for lineage) are said as the same.
    errors.FailedPrecondition: "INVALID_PARAMETER_VALUE",
    errors.Unauthenticated: "UNAUTHENTICATED",
    errors.PermissionDenied: "PERMISSION_DENIED",
    errors.Unavailable: "TEMPORARILY_UNAVAILABLE",
}


# MLflow's UI routes outside its API prefix (browse.py).
UI_PATHS = ("/get-artifact", "/model-versions/get-artifact")


def is_mlflow_path(path: str) -> bool:
    return path.startswith((PREFIX + "/", ARTIFACTS_PREFIX + "/")) or path in UI_PATHS


def code_of(exc: errors.MlledgerError) -> str:
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]  # type: ignore[index]
    return "INTERNAL_ERROR"


_BY_STATUS = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    413: "REQUEST_LIMIT_EXCEEDED",
    503: "TEMPORARILY_UNAVAILABLE",
}


def code_for_status(status: int) -> str:
    """MLflow's code for a refusal made before any route ran (size, credentials, NUL)."""
    return _BY_STATUS.get(status, "INVALID_PARAMETER_VALUE" if status < 500 else "INTERNAL_ERROR")


def body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"error_code": code, "message": message}
    if details:
        out["details"] = details  # mlledger's detail (a gate's reasons), which MLflow ignores
    return out


def response(code: str, message: str, details: Any = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if code == "UNAUTHENTICATED" else None
    return JSONResponse(
        body(code, message, details), status_code=STATUS.get(code, 500), headers=headers
    )


def invalid(found: Sequence[Any], problems: list[dict[str, Any]]) -> JSONResponse:
    """A request that does not parse, said as MLflow's server says it (its clients and tests
    match these words): "Missing value for required parameter 'metrics[0].timestamp'", or
    "Invalid value 31 for parameter 'run_id' supplied"."""
    first = found[0] if found else {}
    where = [p for p in first.get("loc", ()) if p not in ("body", "query")]
    name = "".join(
        f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(where)
    )
    given = first.get("input")
    if first.get("type") == "missing" or given is None or given == "":
        message = f"Missing value for required parameter '{name or 'request'}'. {_DOCS}"
    else:
        shown = json.dumps(given, default=str)
        if len(shown) > 200:
            shown = shown[:200] + "..."
        message = f"Invalid value {shown} for parameter '{name or 'request'}' supplied"
        detail = first.get("msg")
        if detail:
            message += f": {detail}"
    return response("INVALID_PARAMETER_VALUE", message, problems)


_DOCS = "See the API docs for more information about request parameters."


def of(exc: errors.MlledgerError) -> JSONResponse:
    return response(code_of(exc), said(exc), exc.details)


def said(exc: errors.MlledgerError) -> str:
    """A missing resource in MLflow's own sentence ("Run with id=... not found"): MLflow's
    clients and tests match these words. The domain's details name what was missing."""
    d = exc.details if isinstance(exc, errors.NotFound) and isinstance(exc.details, dict) else {}
    if "tag" in d:
        if "logged_model" in d:
            model = f"m-{d['logged_model']:032x}"
            return f"No tag with key {d['tag']!r} found for logged model with ID {model!r}."
        return exc.message
    if "run" in d:
        return f"Run with id={d['run']} not found"
    if "experiment_id" in d:
        return f"No Experiment with id={d['experiment_id']} exists"
    if "experiment" in d:
        return f"Could not find experiment with name '{d['experiment']}'"
    if "model" in d and "version" in d:
        return f"Model Version (name={d['model']}, version={d['version']}) not found"
    if "model" in d and "alias" in d:
        return f"Registered model alias {d['alias']} not found."
    if "model" in d:
        return f"Registered Model with name={d['model']} not found"
    if "logged_model" in d:
        return f"Logged model with ID 'm-{d['logged_model']:032x}' not found."
    if "model_id" in d:
        return f"Logged model with ID '{d['model_id']}' not found."
    return exc.message
