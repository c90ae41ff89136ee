"""`add-column-generated-identity`: Adding a stored generated, identity or serial column rewrites the table."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target
from .common import AE


@register
class AddColumnGeneratedIdentity(Rule):
    needs_actions = frozenset({"ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-column-generated-identity"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "Adding a stored generated, identity or serial column rewrites the table."
    why = (
        "Every existing row gets a computed value (the generation expression, the identity "
        "sequence or serial's nextval()), so the table and its indexes are rewritten under "
        "ACCESS EXCLUSIVE."
    )
    safe_alternative = (
        "Add a plain nullable column, backfill it in batches (from the expression or a "
        "sequence), then attach the default / identity (`ALTER COLUMN … ADD GENERATED … AS "
        "IDENTITY` does not rewrite) — or compute the value in the application."
    )
    bad = """\
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) STORED;
"""
    good = """\
ALTER TABLE orders ADD COLUMN total_cents bigint;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "ADD COLUMN"):
            col = cmd.column
            if col is None:
                continue
            what = (
                "serial"
                if col.serial
                else "identity"
                if col.identity
                else "stored generated"
                if col.generated == "STORED"
                else None
            )
            if what:
                yield Hit(
                    message=f"Adding {what} column {col.name} to {target(ctx.facts)} "
                    "rewrites the table under ACCESS EXCLUSIVE: the running release's reads "
                    "and writes wait for the whole rewrite.",
                    table=target(ctx.facts),
                    lock=AE,
                    rewrites=True,
                )
