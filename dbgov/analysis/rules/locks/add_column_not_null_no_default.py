"""`add-column-not-null-no-default`: A NOT NULL column without a default is added to an existing table."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import LockLevel, Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands


@register
class AddColumnNotNullWithoutDefault(Rule):
    needs_actions = frozenset({"ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-column-not-null-no-default"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "A NOT NULL column without a default is added to an existing table."
    why = (
        "ALTER TABLE … ADD COLUMN … NOT NULL takes ACCESS EXCLUSIVE and fails as soon as "
        "the table has a row; the running code also does not write the column yet."
    )
    safe_alternative = (
        "1. AddField with `null=True` (or a constant `db_default`, which PostgreSQL 11+ adds "
        "without a rewrite). 2. Backfill in batches in a separate data migration. "
        "3. Add NOT NULL through a CHECK (col IS NOT NULL) NOT VALID constraint, VALIDATE it "
        "in another migration, then AlterField to `null=False`."
    )
    bad = """\
ALTER TABLE orders ADD COLUMN currency varchar(3) NOT NULL;
"""
    good = """\
ALTER TABLE orders ADD COLUMN currency varchar(3) DEFAULT 'EUR' NOT NULL;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        # Judged on the SQL PostgreSQL runs: Django's one-off default (AddField with
        # preserve_default=False) is in the ADD COLUMN, so it does not fail; DEFAULT NULL
        # NOT NULL (db_default=None) does (issue 10, both checked by the oracle).
        for cmd in commands(ctx.facts, "ADD COLUMN"):
            col = cmd.column
            if col is None or not cmd.fails_if_rows:
                continue
            table = ctx.facts.tables[0] if ctx.facts.tables else None
            default = " (its default is NULL)" if col.default_null else ""
            yield Hit(
                message=f"ADD COLUMN {col.name!r} NOT NULL{default} on existing table "
                f"{table} fails as soon as the table has a row, after the running release's "
                "queries on it have queued behind its ACCESS EXCLUSIVE lock.",
                table=table,
                lock=LockLevel.ACCESS_EXCLUSIVE,
            )
