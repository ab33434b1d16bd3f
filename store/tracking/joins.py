"""A join whose order SQLite's planner keeps: `CROSS JOIN`, its documented way of saying "this
table is the outer loop" (https://sqlite.org/optoverview.html#manual_control_of_join_order).

The join condition goes in the WHERE clause; elsewhere the construct is an inner join `ON true`,
which every planner may reorder as it likes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import FromClause, Join


class FixedOrder(Join):
    inherit_cache = True


def fixed_order(left: Any, right: Any) -> FromClause:
    """`left CROSS JOIN right` on SQLite, `left JOIN right ON true` elsewhere."""
    return FixedOrder(left, right, true())


@compiles(FixedOrder, "sqlite")
def _cross_join(element: FixedOrder, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    left = compiler.process(element.left, **kw)
    right = compiler.process(element.right, **kw)
    return f"{left} CROSS JOIN {right}"


@compiles(FixedOrder)
def _inner_join(element: FixedOrder, compiler: Any, **kw: Any) -> str:
    return str(compiler.visit_join(element, **kw))
