"""The one table from domain errors to gRPC status codes, as MLMD's client maps them back
(ml_metadata.errors): NOT_FOUND, ALREADY_EXISTS, INVALID_ARGUMENT, FAILED_PRECONDITION, and
ABORTED for a conflict with a concurrent writer, which the client retries."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from mlledger.store import errors

log = logging.getLogger(__name__)

CODES: dict[type[errors.MlledgerError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
}

# Postgres: unique_violation, serialization_failure, deadlock_detected, lock_not_available.
_RETRYABLE_SQLSTATES = {"23505", "40001", "40P01", "55P03"}


def code_of(exc: errors.MlledgerError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]  # type: ignore[index]
    return grpc.StatusCode.INTERNAL


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError | OperationalError):
        state = getattr(exc.orig, "sqlstate", None)
        if state is None:  # SQLite: a unique key met under a race, or the database busy
            return isinstance(exc, IntegrityError) or "locked" in str(exc.orig)
        return state in _RETRYABLE_SQLSTATES
    return False


@contextmanager
def handled(context: Any) -> Iterator[None]:
    """Ends the RPC with the status code of a domain error; a race becomes ABORTED; anything
    else INTERNAL, with nothing of its text."""
    try:
        yield
    except errors.MlledgerError as exc:
        context.abort(code_of(exc), exc.message)
    except DBAPIError as exc:
        if _retryable(exc):
            context.abort(
                grpc.StatusCode.ABORTED, "a concurrent write conflicted with this one; retry it"
            )
        log.exception("MLMD RPC failed in the database")
        context.abort(grpc.StatusCode.INTERNAL, "internal error")
    except Exception as exc:
        if type(exc).__name__ == "_AbortionError":  # context.abort of an inner handler
            raise
        log.exception("MLMD RPC failed")
        context.abort(grpc.StatusCode.INTERNAL, "internal error")
