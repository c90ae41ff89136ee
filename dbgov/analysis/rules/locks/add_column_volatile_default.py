"""`add-column-volatile-default`: ADD COLUMN with a volatile default rewrites the whole table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target
from .common import AE


@register
class AddColumnVolatileDefault(Rule):
    needs_actions = frozenset({"ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-column-volatile-default"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "ADD COLUMN with a volatile default rewrites the whole table under ACCESS EXCLUSIVE."
    why = (
        "PostgreSQL 11+ stores a non-volatile default in the catalog without touching rows, "
        "but a volatile one (clock_timestamp(), random(), gen_random_uuid(), nextval(), an "
        "unknown function) is computed per row: the table and its indexes are rewritten "
        "while reads and writes wait. Before PostgreSQL 11 any default rewrites."
    )
    safe_alternative = (
        "1. AddField with `null=True` and no default (or a constant `db_default`). "
        "2. Backfill in batches in a separate data migration. 3. Set the default for new "
        "rows (AlterField with `db_default`, or the default in Python)."
    )
    bad = """\
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();
"""
    good = """\
ALTER TABLE orders ADD COLUMN placed_at timestamptz DEFAULT now() NOT NULL;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "ADD COLUMN"):
            col = cmd.column
            if col is None or not (cmd.rewrites and col.has_default):
                continue
            if col.serial or col.identity or col.generated == "STORED":
                continue  # add-column-generated-identity
            why = (
                f"volatile default {col.default}"
                if col.default_volatile
                else f"default {col.default} (PostgreSQL < 11 rewrites for any default)"
            )
            yield Hit(
                message=f"Adding column {col.name} to {target(ctx.facts)} with a {why} "
                "rewrites the table under ACCESS EXCLUSIVE: the running release's reads and "
                "writes wait for the whole rewrite.",
                table=target(ctx.facts),
                lock=AE,
                rewrites=True,
            )
