"""`set-not-null`: SET NOT NULL (or PostgreSQL 18's ADD CONSTRAINT … NOT NULL) scans the whole table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...facts import normalize_table
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands


@register
class SetNotNull(Rule):
    kinds = frozenset({"ALTER TABLE"})
    id = "set-not-null"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "SET NOT NULL (or PostgreSQL 18's ADD CONSTRAINT … NOT NULL) scans the whole table under ACCESS EXCLUSIVE."
    why = (
        "ALTER COLUMN … SET NOT NULL and a validated ADD CONSTRAINT … NOT NULL take ACCESS "
        "EXCLUSIVE and read every row to check it, unless a valid CHECK (col IS NOT NULL) "
        "constraint already proves it (PostgreSQL 12+)."
    )
    safe_alternative = (
        "1. AddConstraint CHECK (col IS NOT NULL) NOT VALID (RunSQL). 2. In a separate "
        "migration, VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE). 3. Then AlterField "
        "`null=False` (PostgreSQL 12+ skips the scan) and drop the CHECK."
    )
    bad = """\
ALTER TABLE "orders" ALTER COLUMN "currency" SET NOT NULL;
"""
    good = """\
-- lint: --pg-version 12
ALTER TABLE orders ADD CONSTRAINT orders_currency_not_null CHECK (currency IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_currency_not_null;
-- PostgreSQL 12+: the validated CHECK proves it, SET NOT NULL does not scan
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_currency_not_null;
"""

    def __init__(self) -> None:
        # (table, column) proven NOT NULL by a valid CHECK earlier in the run, and the
        # NOT VALID ones waiting for their VALIDATE: {(table, constraint): column}
        self._proven: set[tuple[str, str]] = set()
        self._pending: dict[tuple[str, str], str] = {}

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        table = ctx.facts.tables[0] if ctx.facts.tables else None
        key = normalize_table(table or "")
        for cmd in commands(ctx.facts):
            con = cmd.constraint
            column = con.not_null_column if con else None
            if con is not None and cmd.action == "ADD CONSTRAINT CHECK" and column:
                if con.not_valid:
                    self._pending[(key, str(con.name))] = column
                else:
                    self._proven.add((key, column))
            elif cmd.action == "VALIDATE CONSTRAINT":
                name = (key, str(cmd.constraint_name))
                if name in self._pending:
                    self._proven.add((key, self._pending.pop(name)))
        major = ctx.plan.pg_major
        for cmd in commands(ctx.facts):
            columns: list[str | None]
            if cmd.action == "SET NOT NULL":
                columns = [cmd.column_name]
                how = "SET NOT NULL"
            elif cmd.action == "ADD CONSTRAINT NOT NULL" and not cmd.not_valid:
                # PostgreSQL 18: a named NOT NULL constraint, validated like SET NOT NULL
                columns = list(cmd.constraint.columns if cmd.constraint else ())
                how = "ADD CONSTRAINT … NOT NULL"
            else:
                continue
            unproven = [
                c
                for c in columns
                if not ((key, c) in self._proven and (major is None or major >= 12))
            ]
            if not unproven:
                continue  # the validated CHECK proves it: no scan
            yield Hit(
                message=f"{how} ({', '.join(map(str, unproven))}) on {table} reads every row "
                "under ACCESS EXCLUSIVE: the running release's reads and writes on it wait "
                "for the whole scan.",
                table=table,
                scans=True,
            )
