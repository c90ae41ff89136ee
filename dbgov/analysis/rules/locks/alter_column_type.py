"""`alter-column-type`: ALTER COLUMN TYPE rewrites the table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...locks import type_change_rewrites
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


def _type_change_rewrites(old: str | None, new: str | None) -> bool | None:
    if not old or not new:
        return None
    return type_change_rewrites(old, new)


@register
class AlterColumnType(Rule):
    needs_actions = frozenset({"ALTER COLUMN TYPE"})
    kinds = frozenset({"ALTER TABLE"})
    id = "alter-column-type"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "ALTER COLUMN TYPE rewrites the table under ACCESS EXCLUSIVE."
    why = (
        "Changing a column's type rewrites the table and its indexes while holding ACCESS "
        "EXCLUSIVE (reads and writes wait), except binary-coercible changes such as "
        "varchar(n) widening, varchar to text, or a numeric precision increase."
    )
    safe_alternative = (
        "Expand and contract: 1. AddField a new column of the new type. 2. Write both "
        "columns from the code and backfill in batches. 3. Switch reads. 4. RemoveField "
        "the old column in a later release."
    )
    bad = """\
ALTER TABLE "order_items" ALTER COLUMN "quantity" TYPE bigint USING "quantity"::bigint;
"""
    good = """\
-- Near miss: the type change is on a table created in this file (empty).
CREATE TABLE "order_item_drafts" ("id" bigint PRIMARY KEY, "quantity" integer NOT NULL);
ALTER TABLE "order_item_drafts" ALTER COLUMN "quantity" TYPE bigint USING "quantity"::bigint;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if "ALTER COLUMN TYPE" not in ctx.facts.actions:
            return
        table = ctx.facts.tables[0] if ctx.facts.tables else None
        details = ctx.operation.details if ctx.operation else {}
        old, new = details.get("old_type"), details.get("new_type")
        rewrites = _type_change_rewrites(old, new)
        if rewrites is False:
            return
        change = f" from {old} to {new}" if old and new else ""
        yield Hit(
            message=f"Column type change on {table}{change} rewrites the table under ACCESS "
            "EXCLUSIVE: the running release's reads and writes on it wait for the whole rewrite.",
            table=table,
            rewrites=True,
        )
