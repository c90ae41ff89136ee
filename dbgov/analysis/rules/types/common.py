"""What several `types` rules share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...model import Severity
from ..base import Hit, Rule, StatementContext
from ..helpers import added_columns, commands, target, type_base

_LAST: list[Any] = [None, []]  # (facts, its typed columns): the type rules share one read


def typed_columns(ctx: StatementContext) -> list[tuple[str | None, str]]:
    """(column name, type) a statement creates or changes to."""
    if _LAST[0] is ctx.facts:
        return _LAST[1]
    found: list[tuple[str | None, str]] = [
        (col.name, col.type or "") for col in added_columns(ctx.facts)
    ]
    found.extend(
        (cmd.column_name, cmd.new_type or "") for cmd in commands(ctx.facts, "ALTER COLUMN TYPE")
    )
    _LAST[0], _LAST[1] = ctx.facts, found
    return found


class TypeRule(Rule):
    kinds = frozenset({"CREATE TABLE", "ALTER TABLE"})
    severity = Severity.WARNING
    category = "types"
    scope = "sql"
    bases: frozenset[str] = frozenset()
    advice = ""

    def matches(self, type_sql: str) -> bool:
        return type_base(type_sql) in self.bases

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for name, type_sql in typed_columns(ctx):
            if self.matches(type_sql):
                yield Hit(message=f"{target(ctx.facts)}.{name} is {type_sql}: {self.advice}")
