"""The one table from domain errors to HTTP, and the one error body.

`{"error": {"code": ..., "message": ..., "details": ...}}` for every failure, including the
framework's own (unknown route, malformed JSON, validation); unknown exceptions become a generic
500 that leaks nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mlledger.store import errors

from .mlflow import errors as mlflow_errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.MlledgerError], int] = {
    errors.PayloadTooLarge: 413,
    errors.InvalidArgument: 400,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.GateBlocked: 409,
    errors.FailedPrecondition: 409,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.Unavailable: 503,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_argument",
    503: "unavailable",
}


def status_of(exc: errors.MlledgerError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 500


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Each transport's errors in its own shape: MLflow's paths answer in MLflow's
    (service/mlflow/errors.py), everything else in mlledger's."""

    @app.exception_handler(errors.MlledgerError)
    async def _domain(request: Request, exc: errors.MlledgerError) -> JSONResponse:
        if mlflow_errors.is_mlflow_path(request.url.path):
            return mlflow_errors.of(exc)
        return _response(status_of(exc), exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "location": [str(p) for p in e.get("loc", ()) if not _union_member(p)],
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        malformed = any(p["type"] == "json_invalid" for p in problems)
        first = problems[0] if problems else {"location": [], "message": "invalid request"}
        where = ".".join(x for x in first["location"] if x != "body") or "request"
        if mlflow_errors.is_mlflow_path(request.url.path):
            if malformed:
                return mlflow_errors.response(
                    "MALFORMED_REQUEST", "request body is not valid JSON", problems
                )
            return mlflow_errors.invalid(exc.errors(), problems)
        if malformed:
            return _response(400, "malformed_json", "request body is not valid JSON", problems)
        return _response(422, "invalid_argument", f"{where}: {first['message']}", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if mlflow_errors.is_mlflow_path(request.url.path):
            code = "ENDPOINT_NOT_FOUND" if exc.status_code in (404, 405) else "BAD_REQUEST"
            return mlflow_errors.response(code, str(exc.detail))
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: every method the resource has, not one route's
            headers["Allow"] = ", ".join(_allowed(request))
        return _response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if mlflow_errors.is_mlflow_path(request.url.path):
            return mlflow_errors.response("INTERNAL_ERROR", "internal server error")
        return _response(500, "internal", "internal server error")


def _union_member(part: object) -> bool:
    """pydantic names the member of a union an error came from (`union[int,float]`,
    `constrained-int`, `function-after[whole(), float]`): the client's field is the part
    before it, so the location names only what the client sent."""
    text = str(part)
    return isinstance(part, str) and (
        ("[" in text and not text.startswith("[")) or text.startswith(("constrained-", "function-"))
    )


def _allowed(request: Request) -> list[str]:
    """The methods the API documents at this path: the OpenAPI's paths matched as the spec
    says (a concrete path before a templated one), so `Allow` and the schema agree."""
    table = getattr(request.app.state, "allow_table", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            params = template.count("{")
            regex = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")
            methods = sorted(m.upper() for m in operations if m in _METHODS)
            table.append((params, regex, methods))
        table.sort(key=lambda row: row[0])
        request.app.state.allow_table = table
    path = request.url.path
    matches = [(params, methods) for params, regex, methods in table if regex.match(path)]
    if not matches:
        return []
    fewest = matches[0][0]
    return sorted({m for params, methods in matches if params == fewest for m in methods})


_METHODS = frozenset({"get", "put", "post", "delete", "patch"})
