"""`dml-without-where`: UPDATE / DELETE without WHERE touches every row in one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import DmlDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class UnbatchedWholeTableDml(Rule):
    kinds = frozenset({"UPDATE", "DELETE"})
    id = "dml-without-where"
    severity = Severity.CARE
    category = "data"
    scope = "sql"
    locking = True
    summary = "UPDATE / DELETE without WHERE touches every row in one transaction."
    why = (
        "One statement over the whole table locks every row it changes until the migration "
        "commits, bloats the table and the WAL, and blocks concurrent writers for its "
        "whole duration."
    )
    safe_alternative = (
        "Backfill in batches from a separate data migration (`atomic = False`, RunPython "
        "looping over primary-key ranges with a commit per batch), or run it as a "
        "background job after the deploy."
    )
    bad = """\
UPDATE orders SET currency = 'EUR';
"""
    good = """\
UPDATE orders SET currency = 'EUR' WHERE id BETWEEN 1 AND 10000 AND currency IS NULL;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        dml = f.detail(DmlDetail)
        if dml is not None and f.kind in ("UPDATE", "DELETE") and not dml.has_where:
            yield Hit(
                message=f"{f.kind} of every row of {dml.table} in one statement "
                "(ROW EXCLUSIVE) locks all of them until the migration commits: the running "
                "release's writes to those rows wait."
            )
