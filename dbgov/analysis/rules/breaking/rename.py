"""`rename`: Renaming a column or table breaks the code still running against the old name."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import RenameDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class RenameColumnOrTable(Rule):
    needs_actions = frozenset({"RENAME COLUMN", "RENAME TABLE"})
    kinds = frozenset({"ALTER TABLE"})
    id = "rename"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "Renaming a column or table breaks the code still running against the old name."
    why = "The release still running during the deploy uses the old name and fails; RENAME takes ACCESS EXCLUSIVE."
    safe_alternative = (
        "Expand and contract: 1. AddField/CreateModel with the new name. 2. Write both, "
        "backfill in batches. 3. Switch reads. 4. Remove the old one in a later release. "
        "(For a model, `db_table` can keep the old table name instead.)"
    )
    bad = """\
ALTER TABLE "orders" RENAME COLUMN "total" TO "total_amount";
"""
    good = """\
-- Near miss: renaming a column of a table created in this file.
CREATE TABLE "order_drafts" ("id" bigint PRIMARY KEY, "total" numeric(12, 2));
ALTER TABLE "order_drafts" RENAME COLUMN "total" TO "total_amount";
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        actions = ctx.facts.actions
        if "RENAME COLUMN" in actions or "RENAME TABLE" in actions:
            table = ctx.facts.tables[0] if ctx.facts.tables else None
            d = ctx.facts.detail(RenameDetail) or RenameDetail()
            what = (
                f"column {d.old_name} of {table}"
                if "RENAME COLUMN" in actions
                else f"table {table}"
            )
            yield Hit(
                message=f"Renaming {what} to {d.new_name} (ACCESS EXCLUSIVE) makes the "
                "running release's queries that use the old name fail.",
                table=table,
            )
