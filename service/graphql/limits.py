"""Query depth and cost limits, checked before anything runs.

Cost: every field costs 1 times the product of the list sizes above it; a list field's size is
its `first` argument (the page cap when given by variable) or `default_list_size` otherwise.
Deep or wide queries get a clear error instead of a slow answer.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
)


def complexity_rule(
    max_cost: int, max_page: int, default_list_size: int = 10
) -> type[ValidationRule]:
    class ComplexityLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = {
                "query": schema.query_type,
                "mutation": schema.mutation_type,
                "subscription": schema.subscription_type,
            }[node.operation.value]
            cost = self._cost(node.selection_set, root, 1, set())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost} exceeds the limit of {max_cost}; ask for smaller "
                        "pages (`first`) or fewer nested lists",
                        node,
                        extensions={"code": "query_too_complex", "cost": cost, "limit": max_cost},
                    )
                )

        def _cost(
            self, selection_set: SelectionSetNode | None, parent: Any, factor: int, seen: set[str]
        ) -> int:
            if selection_set is None or not isinstance(parent, GraphQLObjectType):
                return 0
            total = 0
            for sel in selection_set.selections:
                if isinstance(sel, FieldNode):
                    field = parent.fields.get(sel.name.value)
                    if field is None:
                        continue
                    size = self._size(sel, field.type, parent)
                    total += factor
                    total += self._cost(
                        sel.selection_set, get_named_type(field.type), factor * size, seen
                    )
                elif isinstance(sel, InlineFragmentNode):
                    target = parent
                    if sel.type_condition is not None:
                        target = self.context.schema.get_type(sel.type_condition.name.value)
                    total += self._cost(sel.selection_set, target, factor, seen)
                elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                    fragment = self.context.get_fragment(sel.name.value)
                    if fragment is not None:
                        target = self.context.schema.get_type(fragment.type_condition.name.value)
                        total += self._cost(
                            fragment.selection_set, target, factor, seen | {sel.name.value}
                        )
            return total

        def _size(self, node: FieldNode, field_type: Any, parent: GraphQLObjectType) -> int:
            if parent.name.endswith("Connection"):
                return 1  # a connection's list was sized by its `first` already
            for arg in node.arguments or ():
                if arg.name.value == "first":
                    if isinstance(arg.value, IntValueNode):
                        return max(1, int(arg.value.value))
                    return max_page
            inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
            return default_list_size if isinstance(inner, GraphQLList) else 1

    return ComplexityLimit
