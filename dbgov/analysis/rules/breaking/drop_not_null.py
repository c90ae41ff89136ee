"""`drop-not-null`: DROP NOT NULL lets NULLs in that the running code does not expect."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target


@register
class DropNotNull(Rule):
    needs_actions = frozenset({"DROP NOT NULL"})
    kinds = frozenset({"ALTER TABLE"})
    id = "drop-not-null"
    severity = Severity.WARNING
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "DROP NOT NULL lets NULLs in that the running code does not expect."
    why = (
        "Code written for a NOT NULL column (and readers such as reports or other services) "
        "may break on the first NULL; the ALTER itself takes ACCESS EXCLUSIVE briefly."
    )
    safe_alternative = (
        "Deploy code that handles NULL (and the model with `null=True`) before or with the "
        "migration; keep the column NOT NULL if NULL has no meaning."
    )
    bad = """\
ALTER TABLE "orders" ALTER COLUMN "currency" DROP NOT NULL;
"""
    good = """\
-- Near miss: the table is created in this file, so no running code reads the column.
CREATE TABLE "order_drafts" ("id" bigint PRIMARY KEY, "currency" text NOT NULL);
ALTER TABLE "order_drafts" ALTER COLUMN "currency" DROP NOT NULL;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.is_new(target(ctx.facts)):
            return  # created in this plan / file: no running code reads it yet
        for cmd in commands(ctx.facts, "DROP NOT NULL"):
            yield Hit(
                message=f"{target(ctx.facts)}.{cmd.column_name} becomes nullable (ACCESS "
                "EXCLUSIVE, briefly): code of the running release written for NOT NULL breaks "
                "on the first NULL a newer writer stores."
            )
