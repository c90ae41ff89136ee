"""`add-check-validated`: Adding a validated CHECK constraint scans the table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands


@register
class AddCheckValidated(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT CHECK"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-check-validated"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "Adding a validated CHECK constraint scans the table under ACCESS EXCLUSIVE."
    why = "ADD CONSTRAINT … CHECK takes ACCESS EXCLUSIVE and reads every row before it commits."
    safe_alternative = (
        "Add it with NOT VALID (RunSQL, or AddConstraint then edit), then VALIDATE CONSTRAINT "
        "in a separate migration (SHARE UPDATE EXCLUSIVE)."
    )
    bad = """\
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0);
"""
    good = """\
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0) NOT VALID;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if any(
            c.constraint and not c.constraint.not_valid for c in commands(f, "ADD CONSTRAINT CHECK")
        ):
            table = f.tables[0] if f.tables else None
            yield Hit(
                message=f"CHECK constraint on {table} is validated at once under ACCESS "
                "EXCLUSIVE: the running release's reads and writes on it wait while every row "
                "is checked.",
                table=table,
                scans=True,
            )
