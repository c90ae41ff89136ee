"""`transaction-control`: BEGIN / COMMIT / ROLLBACK inside a migration that already runs in a transaction."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from .common import BEGIN_KINDS, END_KINDS


@register
class TransactionNesting(Rule):
    kinds = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "PREPARE TRANSACTION"})
    id = "transaction-control"
    severity = Severity.CARE
    category = "robustness"
    scope = "sql"
    summary = "BEGIN / COMMIT / ROLLBACK inside a migration that already runs in a transaction."
    why = (
        "Django (or `--assume-in-transaction`) wraps the migration in a transaction: a "
        "nested BEGIN is ignored with a warning, and a COMMIT ends the migration's "
        "transaction early, so a later failure leaves the migration half applied and "
        "unrecorded."
    )
    safe_alternative = (
        "Remove the transaction statements; to run outside a transaction set "
        "`atomic = False` on the migration (and make each step idempotent)."
    )
    bad = """\
-- lint: --assume-in-transaction
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
"""
    good = """\
-- Near miss: the file does not run inside a transaction (atomic = False), so its own
-- BEGIN / COMMIT are the transaction.
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        kind = ctx.facts.kind
        if kind in BEGIN_KINDS and ctx.in_transaction:
            yield Hit(
                message="BEGIN inside the migration's open transaction is ignored, so a "
                "COMMIT after it ends the migration's transaction early."
            )
        elif kind in END_KINDS and ctx.migration is not None and ctx.migration.atomic:
            yield Hit(
                message=f"{kind} ends the migration's own transaction early: a later failure "
                "leaves the migration half applied and unrecorded."
            )
