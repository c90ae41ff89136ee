"""`set-expression`: ALTER COLUMN … SET EXPRESSION rewrites the whole table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from .. import register
from .common import RewriteRule


@register
class SetExpression(RewriteRule):
    needs_actions = frozenset({"SET EXPRESSION"})
    id = "set-expression"
    actions = ("SET EXPRESSION",)
    summary = "ALTER COLUMN … SET EXPRESSION rewrites the whole table under ACCESS EXCLUSIVE."
    why = (
        "Changing a stored generated column's expression (PostgreSQL 17+) recomputes it for "
        "every row: the table is rewritten while reads and writes wait."
    )
    safe_alternative = (
        "Add a new generated column with the new expression (AddField with GeneratedField "
        "rewrites too: do it while the table is small), or a plain column filled by a "
        "trigger and backfilled in batches; switch the code; drop the old column later."
    )
    bad = """\
-- lint: --pg-version 17
ALTER TABLE "order_items" ALTER COLUMN "line_total" SET EXPRESSION AS ("quantity" * "unit_price" * 1.2);
"""
    good = """\
-- lint: --pg-version 17
-- Near miss: the table is created in this file (empty, unused).
CREATE TABLE "quote_items" ("quantity" int, "unit_price" numeric, "line_total" numeric GENERATED ALWAYS AS ("quantity" * "unit_price") STORED);
ALTER TABLE "quote_items" ALTER COLUMN "line_total" SET EXPRESSION AS ("quantity" * "unit_price" * 1.2);
"""
