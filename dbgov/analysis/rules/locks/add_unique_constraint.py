"""`add-unique-constraint`: A UNIQUE constraint (unique=True, unique_together) builds its index under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target
from .common import AE


@register
class AddUniqueConstraint(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT UNIQUE", "ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-unique-constraint"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "A UNIQUE constraint (unique=True, unique_together) builds its index under ACCESS EXCLUSIVE."
    why = (
        "ADD CONSTRAINT … UNIQUE without USING INDEX builds a unique index while holding "
        "ACCESS EXCLUSIVE: reads and writes wait for the whole build, and it fails if "
        "existing rows are duplicated."
    )
    safe_alternative = (
        "1. AddIndexConcurrently with a unique index (`UniqueConstraint` cannot be concurrent: "
        "use RunSQL `CREATE UNIQUE INDEX CONCURRENTLY`) in a migration with `atomic = False`. "
        "2. `ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …` in SeparateDatabaseAndState "
        "with the AddConstraint / AlterField as state operation."
    )
    bad = """\
ALTER TABLE "customers" ADD CONSTRAINT "customers_email_uniq" UNIQUE ("email");
"""
    good = """\
ALTER TABLE "customers" ADD CONSTRAINT "customers_email_uniq" UNIQUE USING INDEX "customers_email_uniq_idx";
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "ADD CONSTRAINT UNIQUE"):
            con = cmd.constraint
            if con is not None and not con.using_index:
                cols = ", ".join(c for c in con.columns if c)
                yield Hit(
                    message=f"UNIQUE ({cols}) on {target(ctx.facts)} builds its index under "
                    "ACCESS EXCLUSIVE: the running release's reads and writes wait for the "
                    "whole build, which fails on duplicated rows.",
                    table=target(ctx.facts),
                    lock=AE,
                    scans=True,
                )
        for cmd in commands(ctx.facts, "ADD COLUMN"):
            col = cmd.column
            if col is not None and (col.unique or col.primary_key):
                yield Hit(
                    message=f"Column {col.name} is added to {target(ctx.facts)} with an "
                    "inline UNIQUE/PRIMARY KEY: the index is built under ACCESS EXCLUSIVE while "
                    "the running release's reads and writes wait.",
                    table=target(ctx.facts),
                    lock=AE,
                    scans=True,
                )
