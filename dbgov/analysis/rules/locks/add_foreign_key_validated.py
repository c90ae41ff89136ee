"""`add-foreign-key-validated`: Adding a validated FOREIGN KEY locks both tables and scans the referencing one."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands


@register
class AddForeignKeyValidated(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT FOREIGN KEY", "ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-foreign-key-validated"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "Adding a validated FOREIGN KEY locks both tables and scans the referencing one."
    why = (
        "ADD CONSTRAINT … FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables (writes wait) "
        "and checks every existing row before it commits."
    )
    safe_alternative = (
        "Add it NOT VALID, then VALIDATE CONSTRAINT in a separate migration (SHARE UPDATE "
        "EXCLUSIVE, writes continue): `migrations.AddField(..., db_constraint=False)` then "
        "RunSQL `ADD CONSTRAINT … NOT VALID` and, in the next migration, `VALIDATE CONSTRAINT`; "
        "or keep the SQL in SeparateDatabaseAndState."
    )
    bad = """\
ALTER TABLE "order_items" ADD CONSTRAINT "oi_order_fk" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") DEFERRABLE INITIALLY DEFERRED;
"""
    good = """\
ALTER TABLE "order_items" ADD CONSTRAINT "oi_order_fk" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") NOT VALID;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        validated = [
            c
            for c in commands(f)
            if c.constraint is not None
            and c.constraint.type == "FOREIGN KEY"
            and not c.constraint.not_valid
        ]
        if validated:
            table = f.tables[0] if f.tables else None
            if not ctx.is_new(table):
                referenced = ", ".join(
                    dict.fromkeys(
                        str(c.constraint.referenced_table) for c in validated if c.constraint
                    )
                )
                yield Hit(
                    message=f"FOREIGN KEY on {table} → {referenced} is validated at once under "
                    f"SHARE ROW EXCLUSIVE on both tables: the running release's writes to "
                    f"{table} and {referenced} wait while every row is checked.",
                    table=table,
                    scans=True,
                )
