"""`create-index-not-concurrently`: CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class CreateIndexNotConcurrently(Rule):
    kinds = frozenset({"CREATE INDEX"})
    id = "create-index-not-concurrently"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build."
    why = "CREATE INDEX takes a SHARE lock: INSERT/UPDATE/DELETE wait until the index is built (a full scan)."
    safe_alternative = (
        "Use `django.contrib.postgres.operations.AddIndexConcurrently` in a migration with "
        "`atomic = False` (and `RemoveIndexConcurrently` to drop)."
    )
    bad = """\
CREATE INDEX "orders_status_idx" ON "orders" ("status");
"""
    good = """\
CREATE INDEX CONCURRENTLY "orders_status_idx" ON "orders" ("status");
-- a new table is not hot
CREATE TABLE fresh (id bigint PRIMARY KEY, a int);
CREATE INDEX fresh_a_idx ON fresh (a);
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind == "CREATE INDEX" and not f.concurrently:
            table = f.tables[0] if f.tables else None
            if not ctx.is_new(table):
                yield Hit(
                    message=f"CREATE INDEX on {table} without CONCURRENTLY holds SHARE for the "
                    f"whole build: the running release's INSERT, UPDATE and DELETE on {table} "
                    "wait until it finishes.",
                    table=table,
                )
