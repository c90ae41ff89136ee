"""`truncate`: TRUNCATE deletes every row."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class Truncate(Rule):
    kinds = frozenset({"TRUNCATE"})
    id = "truncate"
    severity = Severity.PLAN
    category = "breaking"
    scope = "sql"
    summary = "TRUNCATE deletes every row."
    why = "TRUNCATE takes ACCESS EXCLUSIVE and removes all rows (with CASCADE, of referencing tables too)."
    safe_alternative = (
        "Archive first and delete in batches with an approved plan; never in a schema migration."
    )
    bad = """\
TRUNCATE sessions CASCADE;
"""
    good = """\
-- Near miss: TRUNCATE of a table created in this file (nothing in it yet).
CREATE TABLE "import_batch" ("id" bigint PRIMARY KEY, "payload" jsonb);
TRUNCATE "import_batch";
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        tables = [t for t in ctx.facts.tables if not ctx.is_new(t)]
        if ctx.facts.kind == "TRUNCATE" and tables:
            cascade = (
                " (and, with CASCADE, of every referencing table)"
                if "CASCADE" in ctx.facts.actions
                else ""
            )
            yield Hit(
                message=f"TRUNCATE {', '.join(tables)} deletes every row{cascade} under ACCESS "
                "EXCLUSIVE: the running release reads empty tables from the commit on."
            )
