"""`drop-index-not-concurrently`: DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import DropDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from .common import AE


@register
class DropIndexNotConcurrently(Rule):
    kinds = frozenset({"DROP INDEX"})
    id = "drop-index-not-concurrently"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table."
    why = (
        "A plain DROP INDEX locks the index's table with ACCESS EXCLUSIVE: every read and "
        "write waits, and queues behind any long transaction (sql-dropindex.html)."
    )
    safe_alternative = (
        "Use `django.contrib.postgres.operations.RemoveIndexConcurrently` in a migration "
        "with `atomic = False` (RunSQL `DROP INDEX CONCURRENTLY IF EXISTS …` for raw SQL)."
    )
    bad = """\
DROP INDEX IF EXISTS "orders_status_idx";
"""
    good = """\
DROP INDEX CONCURRENTLY IF EXISTS "orders_status_idx";
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind == "DROP INDEX" and not f.concurrently:
            drop = f.detail(DropDetail)
            names = ", ".join(drop.objects if drop else ())
            yield Hit(
                message=f"DROP INDEX {names} without CONCURRENTLY takes ACCESS EXCLUSIVE on its "
                "table: the running release's reads and writes on it wait, behind any long "
                "query.",
                lock=AE,
            )
