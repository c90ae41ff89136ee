"""`reindex-not-concurrently`: REINDEX without CONCURRENTLY blocks the table while indexes are rebuilt."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import ReindexDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from .common import AE


@register
class ReindexNotConcurrently(Rule):
    kinds = frozenset({"REINDEX"})
    id = "reindex-not-concurrently"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "REINDEX without CONCURRENTLY blocks the table while indexes are rebuilt."
    why = (
        "REINDEX locks out writes on the table and takes ACCESS EXCLUSIVE on each index it "
        "rebuilds, so queries using it wait for the whole rebuild (sql-reindex.html)."
    )
    safe_alternative = (
        "Use `REINDEX … CONCURRENTLY` (PostgreSQL 12+) in a RunSQL of a migration with "
        "`atomic = False`."
    )
    bad = """\
REINDEX INDEX orders_status_idx;
"""
    good = """\
REINDEX INDEX CONCURRENTLY orders_status_idx;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind == "REINDEX" and not f.concurrently:
            reindex = f.detail(ReindexDetail)
            what = f"{reindex.target} {reindex.name or ''}".strip() if reindex else ""
            yield Hit(
                message=f"REINDEX {what} without CONCURRENTLY takes ACCESS EXCLUSIVE on each "
                "index it rebuilds and blocks writes to its table: the running release's "
                "queries using them wait for the whole rebuild.",
                lock=AE,
                scans=True,
            )
