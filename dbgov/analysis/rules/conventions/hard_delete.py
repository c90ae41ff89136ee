"""`hard-delete`: Rows are deleted where the soft-delete convention (deleted_at) applies."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class HardDelete(Rule):
    kinds = frozenset({"DELETE"})
    id = "hard-delete"
    severity = Severity.WARNING
    category = "conventions"
    scope = "sql"
    opt_in = True
    summary = "Rows are deleted where the soft-delete convention (deleted_at) applies."
    why = "With a soft-delete convention, rows are marked with deleted_at so history and references survive."
    safe_alternative = "UPDATE … SET deleted_at = now() WHERE … instead of DELETE (and filter on deleted_at IS NULL)."
    bad = """\
DELETE FROM customers WHERE id = 42;
"""
    good = """\
-- Near miss: rows deleted from a scratch table created in this file.
CREATE TABLE "import_batch" ("id" bigint PRIMARY KEY, "payload" jsonb);
DELETE FROM "import_batch" WHERE "payload" IS NULL;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        table = ctx.facts.details.table
        if ctx.facts.kind == "DELETE" and not ctx.is_new(table):
            yield Hit(message=f"DELETE FROM {table}: use deleted_at instead.")
