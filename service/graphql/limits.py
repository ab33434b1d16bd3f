"""Query cost limit, checked before anything runs.

Cost: every field costs 1 times the product of the list sizes above it, introspection's fields
included. A list's size is its bound, never a guess: `first` (variables resolved) for pages;
`maxNodes` for a lineage answer's nodes and three times that for its edges (what the store
returns at most); the schema's own counts for introspection's lists. A node's neighbour lists
(producers, inputs, metrics...) take `first` too, with a default their resolvers never exceed,
so every list has a bound the client can lower. The
number of root fields (aliases included) is bounded too, so one request cannot repeat a costly
field a thousand times. A query that would fan out too far gets a clear error instead of a slow
answer. Runs in `on_validate`, where (unlike in a static validation rule) the variables are
known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    VariableNode,
    get_named_type,
    validate,
)
from strawberry.extensions import SchemaExtension

from mlledger.store.metadata.lineage import EDGES_PER_NODE

NEIGHBOURS = 100  # a neighbour list's default `first` (types.py)
MAX_NEIGHBOURS = 1000  # and the largest one it accepts


@dataclass(frozen=True)
class Limits:
    max_cost: int
    max_page: int
    max_nodes: int
    max_root_fields: int


def cost_limit(limits: Limits) -> Callable[[], SchemaExtension]:
    def build() -> SchemaExtension:
        return CostLimit(limits)

    return build


def _error(message: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "query_too_complex", **extensions})


class CostLimit(SchemaExtension):
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.max_cost = limits.max_cost

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.pre_execution_errors is None and ctx.validation_rules:
            # The validation rules (depth, unknown fields) first: their errors come first, and
            # strawberry does not validate again once errors (even none) are set.
            ctx.pre_execution_errors = validate(ctx.schema._schema, document, ctx.validation_rules)
        if document is not None and not ctx.pre_execution_errors:
            cost = _Coster(ctx.schema._schema, document, ctx.variables or {}, self.limits)
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            chosen = [
                o
                for o in operations
                if ctx.operation_name is None or (o.name and o.name.value == ctx.operation_name)
            ][:1]
            roots = max((cost.root_fields(o) for o in chosen), default=0)
            if roots > self.limits.max_root_fields:
                ctx.pre_execution_errors = [
                    _error(
                        f"the query asks for {roots} root fields (aliases included); at most "
                        f"{self.limits.max_root_fields} a request",
                        rootFields=roots,
                        limit=self.limits.max_root_fields,
                    )
                ]
                yield
                return
            total = sum(cost.operation(o) for o in chosen)
            if total > self.max_cost:
                ctx.pre_execution_errors = [
                    _error(
                        f"query cost {total} exceeds the limit of {self.max_cost}; ask for "
                        "smaller pages (`first`, `maxNodes`) or fewer nested lists",
                        cost=total,
                        limit=self.max_cost,
                    )
                ]
        yield


class _Coster:
    def __init__(
        self, schema: GraphQLSchema, document: Any, variables: dict[str, Any], limits: Limits
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.max_page = limits.max_page
        self.max_nodes = limits.max_nodes
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        types = [t for t in schema.type_map.values()]
        # Introspection's lists, at the sizes this schema gives them.
        most_fields = max((len(getattr(t, "fields", {}) or {}) for t in types), default=1)
        most_values = max((len(getattr(t, "values", {}) or {}) for t in types), default=1)
        most_args = max(
            (
                len(f.args)
                for t in types
                for f in (getattr(t, "fields", {}) or {}).values()
                if hasattr(f, "args")
            ),
            default=1,
        )
        most_args = max(most_args, *(len(d.args) for d in schema.directives))
        self.introspection = {
            ("__Schema", "types"): len(types),
            ("__Schema", "directives"): len(schema.directives),
            ("__Type", "fields"): most_fields,
            ("__Type", "inputFields"): most_fields,
            ("__Type", "enumValues"): most_values,
            ("__Type", "interfaces"): len(types),
            ("__Type", "possibleTypes"): len(types),
            ("__Field", "args"): most_args,
            ("__Directive", "args"): most_args,
        }

    def root_fields(self, node: OperationDefinitionNode) -> int:
        """Fields at the top of the operation, through fragments (each alias counts)."""
        count, stack, seen = 0, [node.selection_set], set()
        while stack:
            for sel in stack.pop().selections:
                if isinstance(sel, FieldNode):
                    count += 1
                elif isinstance(sel, InlineFragmentNode):
                    stack.append(sel.selection_set)
                elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                    seen.add(sel.name.value)
                    fragment = self.fragments.get(sel.name.value)
                    if fragment is not None:
                        stack.append(fragment.selection_set)
        return count

    def operation(self, node: OperationDefinitionNode) -> int:
        root = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }[node.operation.value]
        return self._cost(node.selection_set, root, 1, frozenset(), self.max_nodes)

    def _field(self, parent: GraphQLObjectType, name: str) -> Any:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if name == "__typename":
            return TypeNameMetaFieldDef
        return parent.fields.get(name)

    def _cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        factor: int,
        seen: frozenset[str],
        nodes: int,
    ) -> int:
        if selection_set is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        target: Any
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                field = self._field(parent, sel.name.value)
                if field is None:
                    continue  # validation reports unknown fields
                size = self._size(sel, field, parent, nodes)
                below = (
                    self._int_arg(sel, "maxNodes", nodes) if sel.name.value == "lineage" else nodes
                )
                total += factor + self._cost(
                    sel.selection_set, get_named_type(field.type), factor * size, seen, below
                )
            elif isinstance(sel, InlineFragmentNode):
                target = parent
                if sel.type_condition is not None:
                    target = self.schema.get_type(sel.type_condition.name.value)
                total += self._cost(sel.selection_set, target, factor, seen, nodes)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                fragment = self.fragments.get(sel.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._cost(
                        fragment.selection_set, target, factor, seen | {sel.name.value}, nodes
                    )
        return total

    def _int_arg(self, node: FieldNode, name: str, default: int) -> int:
        for arg in node.arguments or ():
            if arg.name.value == name:
                value: Any = default
                if isinstance(arg.value, IntValueNode):
                    value = int(arg.value.value)
                elif isinstance(arg.value, VariableNode):
                    value = self.variables.get(arg.value.name.value, default)
                # An out-of-range value is refused by the resolver; cost it at the bound.
                return max(1, value) if isinstance(value, int) and value <= default else default
        return default

    def _size(self, node: FieldNode, field: Any, parent: GraphQLObjectType, nodes: int) -> int:
        if parent.name.endswith("Connection"):
            return 1  # a connection's list was sized by its `first` already
        declared = (getattr(field, "args", None) or {}).get("first")
        if declared is not None:  # a page or a neighbour list: `first`, or its default
            default = declared.default_value
            if not any(a.name.value == "first" for a in node.arguments or ()):
                return default if isinstance(default, int) else self.max_page
            bound = self.max_page if parent.name == "Query" else MAX_NEIGHBOURS
            return self._int_arg(node, "first", max(bound, self.max_page))
        inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if not isinstance(inner, GraphQLList):
            return 1
        key = (parent.name, node.name.value)
        if key in self.introspection:
            return self.introspection[key]
        if parent.name == "Lineage":
            return nodes if node.name.value == "nodes" else nodes * EDGES_PER_NODE
        return MAX_NEIGHBOURS  # a list this table does not know: its largest bound
