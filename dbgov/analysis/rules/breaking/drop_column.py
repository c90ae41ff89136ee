"""`drop-column`: Dropping a column breaks the code still running against it."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands


@register
class DropColumn(Rule):
    needs_actions = frozenset({"DROP COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "drop-column"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "Dropping a column breaks the code still running against it."
    why = (
        "Django selects every model field: the release still running during the deploy "
        "fails on the missing column. DROP COLUMN itself takes ACCESS EXCLUSIVE briefly."
    )
    safe_alternative = (
        "1. Remove the field from the model but keep the column: SeparateDatabaseAndState "
        "with `state_operations=[RemoveField(...)]` and no database operation (make it "
        "nullable first if it is NOT NULL). 2. Deploy. 3. Drop the column in a later release."
    )
    bad = """\
ALTER TABLE "products" DROP COLUMN "legacy_code" CASCADE;
"""
    good = """\
-- Near miss: the table is created in this file, so no running code reads the column.
CREATE TABLE "product_import" ("id" bigint PRIMARY KEY, "legacy_code" text);
ALTER TABLE "product_import" DROP COLUMN "legacy_code";
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if "DROP COLUMN" in ctx.facts.actions:
            table = ctx.facts.tables[0] if ctx.facts.tables else None
            columns = ", ".join(str(c.column_name) for c in commands(ctx.facts, "DROP COLUMN"))
            yield Hit(
                message=f"DROP COLUMN {columns} on {table} (ACCESS EXCLUSIVE) makes the running "
                "release's queries that read or write it fail (Django selects every field), "
                "and its data is gone.",
                table=table,
            )
