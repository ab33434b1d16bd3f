"""The one extension mapping domain errors to GraphQL errors.

Domain errors keep their message and gain `extensions.code`; anything else is masked as
"internal server error", so a resolver bug leaks nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from mlledger.store.errors import MlledgerError

log = logging.getLogger(__name__)


class DomainErrors(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        mapped = []
        for error in result.errors:
            original = error.original_error
            if original is None or isinstance(original, GraphQLError):
                mapped.append(error)
            elif isinstance(original, MlledgerError):
                mapped.append(
                    GraphQLError(
                        original.message,
                        nodes=error.nodes,
                        path=error.path,
                        extensions={"code": original.code, "details": original.details},
                    )
                )
            else:
                log.error("unhandled GraphQL error", exc_info=original)
                mapped.append(
                    GraphQLError(
                        "internal server error",
                        nodes=error.nodes,
                        path=error.path,
                        extensions={"code": "internal"},
                    )
                )
        result.errors = mapped
