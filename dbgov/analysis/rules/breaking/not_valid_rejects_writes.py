"""`not-valid-rejects-writes`: A NOT VALID constraint is enforced on new writes at once."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target


@register
class NotValidConstraintRejectsWrites(Rule):
    needs_actions = frozenset(
        {"ADD CONSTRAINT CHECK", "ADD CONSTRAINT FOREIGN KEY", "ADD CONSTRAINT NOT NULL"}
    )
    kinds = frozenset({"ALTER TABLE"})
    id = "not-valid-rejects-writes"
    # A warning: NOT VALID is the safe way to add a constraint (add-check-validated,
    # add-foreign-key-validated); the reader checks the running release obeys it.
    severity = Severity.WARNING
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "A NOT VALID constraint is enforced on new writes at once."
    why = (
        "NOT VALID only skips checking the existing rows: from the commit on, every INSERT "
        "and UPDATE is checked, so the running release's writes that violate the new "
        "constraint fail before the new release that obeys it is deployed."
    )
    safe_alternative = (
        "Deploy the code that writes only valid rows first (or check that the running "
        "release never writes violating values), then add the constraint NOT VALID and "
        "VALIDATE it in a later migration."
    )
    bad = """\
-- Existing rows are not checked, but every new INSERT/UPDATE is, from the commit on.
ALTER TABLE "orders" ADD CONSTRAINT "orders_total_positive" CHECK ("total" >= 0) NOT VALID;
"""
    good = """\
-- Near miss: NOT VALID on a table created in this file (no release writes to it yet).
CREATE TABLE "refunds" ("id" bigint PRIMARY KEY, "amount" numeric(12, 2) NOT NULL);
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_amount_positive" CHECK ("amount" > 0) NOT VALID;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        table = target(ctx.facts)
        for cmd in commands(ctx.facts):
            con = cmd.constraint
            if con is None or not con.not_valid or not cmd.action.startswith("ADD CONSTRAINT"):
                continue
            what = f"{con.type} {con.name or ''}".strip()
            if con.type == "FOREIGN KEY":
                what += f" → {con.referenced_table}"
            yield Hit(
                message=f"{what} on {table} is added NOT VALID under {cmd.lock}: it is enforced on "
                "new writes at once, so the running release's INSERT/UPDATE that violate it fail.",
                table=table,
            )
