"""Query cost limit, checked before anything runs.

Cost: every field costs 1 times the product of the list sizes above it; a list's size is its
`first` argument (variables resolved) or `DEFAULT_LIST_SIZE` for lists without one. A query that
would fan out too far gets a clear error instead of a slow answer. Runs in `on_validate`, where
(unlike in a static validation rule) the variables are known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

DEFAULT_LIST_SIZE = 5


def cost_limit(max_cost: int, max_page: int) -> Callable[[], SchemaExtension]:
    def build() -> SchemaExtension:
        return CostLimit(max_cost=max_cost, max_page=max_page)

    return build


class CostLimit(SchemaExtension):
    def __init__(self, *, max_cost: int, max_page: int) -> None:
        self.max_cost = max_cost
        self.max_page = max_page

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.pre_execution_errors is None:
            cost = _Coster(ctx.schema._schema, document, ctx.variables or {}, self.max_page)
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            chosen = [
                o
                for o in operations
                if ctx.operation_name is None or (o.name and o.name.value == ctx.operation_name)
            ]
            total = sum(cost.operation(o) for o in chosen[:1])
            if total > self.max_cost:
                ctx.pre_execution_errors = [
                    GraphQLError(
                        f"query cost {total} exceeds the limit of {self.max_cost}; ask for "
                        "smaller pages (`first`) or fewer nested lists",
                        extensions={
                            "code": "query_too_complex",
                            "cost": total,
                            "limit": self.max_cost,
                        },
                    )
                ]
        yield


class _Coster:
    def __init__(
        self, schema: GraphQLSchema, document: Any, variables: dict[str, Any], max_page: int
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.max_page = max_page
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def operation(self, node: OperationDefinitionNode) -> int:
        root = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }[node.operation.value]
        return self._cost(node.selection_set, root, 1, frozenset())

    def _cost(
        self, selection_set: SelectionSetNode | None, parent: Any, factor: int, seen: frozenset[str]
    ) -> int:
        if selection_set is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                field = parent.fields.get(sel.name.value)
                if field is None:
                    continue  # validation reports unknown fields
                size = self._size(sel, field.type, parent)
                total += factor + self._cost(
                    sel.selection_set, get_named_type(field.type), factor * size, seen
                )
            elif isinstance(sel, InlineFragmentNode):
                target = parent
                if sel.type_condition is not None:
                    target = self.schema.get_type(sel.type_condition.name.value)
                total += self._cost(sel.selection_set, target, factor, seen)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                fragment = self.fragments.get(sel.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._cost(
                        fragment.selection_set, target, factor, seen | {sel.name.value}
                    )
        return total

    def _size(self, node: FieldNode, field_type: Any, parent: GraphQLObjectType) -> int:
        if parent.name.endswith("Connection"):
            return 1  # a connection's list was sized by its `first` already
        for arg in node.arguments or ():
            if arg.name.value == "first":
                value: Any = self.max_page
                if isinstance(arg.value, IntValueNode):
                    value = int(arg.value.value)
                elif isinstance(arg.value, VariableNode):
                    value = self.variables.get(arg.value.name.value, self.max_page)
                return max(1, int(value)) if isinstance(value, int) else self.max_page
        inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        return DEFAULT_LIST_SIZE if isinstance(inner, GraphQLList) else 1
