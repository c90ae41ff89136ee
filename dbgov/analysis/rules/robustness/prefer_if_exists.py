"""`prefer-if-exists`: Use IF [NOT] EXISTS so the SQL can be re-run after a partial failure."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands


@register
class PreferRobustStatements(Rule):
    id = "prefer-if-exists"
    severity = Severity.WARNING
    category = "robustness"
    scope = "sql"
    opt_in = True
    summary = "Use IF [NOT] EXISTS so the SQL can be re-run after a partial failure."
    why = (
        "A migration that runs outside a transaction (CONCURRENTLY, `atomic = False`) can "
        "stop half way; re-running it fails on the objects it already created or dropped."
    )
    safe_alternative = (
        "CREATE TABLE / INDEX IF NOT EXISTS, ADD COLUMN IF NOT EXISTS, DROP … IF EXISTS "
        "(and drop INVALID indexes left by a failed CONCURRENTLY build)."
    )
    bad = """\
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
"""
    good = """\
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        d = f.details
        if f.kind in ("CREATE TABLE", "CREATE INDEX") and not d.if_not_exists:
            yield Hit(message=f"{f.kind} without IF NOT EXISTS.")
        elif f.kind.startswith("DROP ") and not d.if_exists:
            yield Hit(message=f"{f.kind} without IF EXISTS.")
        for cmd in commands(f, "ADD COLUMN"):
            if not cmd.if_not_exists:
                yield Hit(message=f"ADD COLUMN {cmd.column_name} without IF NOT EXISTS.")
        for cmd in commands(f, "DROP COLUMN", "DROP CONSTRAINT"):
            if not cmd.if_exists:
                yield Hit(message=f"{cmd.action} without IF EXISTS.")
