"""`not-null-default-dropped`: A NOT NULL column is added with a default that is dropped at once."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import LockLevel, Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands


@register
class NotNullDefaultDropped(Rule):
    needs_actions = frozenset({"DROP DEFAULT"})
    kinds = frozenset({"ALTER TABLE"})
    id = "not-null-default-dropped"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "A NOT NULL column is added with a default that is dropped at once."
    why = (
        "Django's one-off default (makemigrations asked for one) fills the existing rows "
        "without a rewrite, then DROP DEFAULT removes it: the release still running does "
        "not know the column, so its INSERTs omit it and fail with a NOT NULL violation "
        "until the new release is deployed."
    )
    safe_alternative = (
        "Keep a database default for the running release: `db_default=` on the field (or "
        "`preserve_default=True`), or add the column nullable first and make it NOT NULL in "
        "a later release once every writer sets it."
    )
    bad = """\
-- lint: --assume-in-transaction
ALTER TABLE "shop_orders" ADD COLUMN "currency" varchar(3) DEFAULT 'EUR' NOT NULL;
ALTER TABLE "shop_orders" ALTER COLUMN "currency" DROP DEFAULT;
"""
    good = """\
-- lint: --assume-in-transaction
ALTER TABLE "shop_orders" ADD COLUMN "currency" varchar(3) DEFAULT 'EUR' NOT NULL;
ALTER TABLE "shop_orders" ALTER COLUMN "note" DROP DEFAULT;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        table = ctx.facts.tables[0] if ctx.facts.tables else None
        for cmd in commands(ctx.facts, "DROP DEFAULT"):
            column = cmd.column_name
            for earlier in ctx.previous_in_transaction:
                for added in commands(earlier, "ADD COLUMN"):
                    col = added.column
                    if (
                        col is not None
                        and col.name == column
                        and col.not_null
                        and col.has_default
                        and earlier.tables[:1] == ctx.facts.tables[:1]
                    ):
                        yield Hit(
                            message=f"{table}.{column} is NOT NULL and its default is dropped "
                            "(under ACCESS EXCLUSIVE) right after it is added: INSERTs of the "
                            "running release, which "
                            "omit the column, fail until the new release is deployed.",
                            table=table,
                            lock=LockLevel.ACCESS_EXCLUSIVE,
                        )
