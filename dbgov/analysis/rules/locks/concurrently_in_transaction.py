"""`concurrently-in-transaction`: CONCURRENTLY cannot run inside a transaction: the migration fails."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule, StatementContext


@register
class ConcurrentlyInTransaction(Rule):
    id = "concurrently-in-transaction"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    summary = "CONCURRENTLY cannot run inside a transaction: the migration fails."
    why = (
        "PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY (and other concurrent commands) "
        "in a transaction block; Django runs migrations in one unless `atomic = False`."
    )
    safe_alternative = (
        "Set `atomic = False` on the migration and keep the concurrent operation alone in it."
    )
    bad = """\
-- lint: --assume-in-transaction
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
"""
    good = """\
-- lint: --assume-in-transaction
CREATE INDEX orders_status_idx ON fresh_table_in_tx (status);
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.in_transaction and not ctx.facts.transactional:
            yield Hit(
                message=f"{ctx.facts.kind} CONCURRENTLY on {', '.join(ctx.facts.tables) or 'its table'}"
                f" ({ctx.facts.lock.value if ctx.facts.lock else 'no lock'}) cannot run inside "
                "the migration's transaction block: PostgreSQL refuses it and the migration fails."
                if ctx.facts.concurrently
                else f"{ctx.facts.kind} cannot run inside the migration's transaction block: "
                "PostgreSQL refuses it and the migration fails."
            )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        # Django refuses to render these in an atomic migration, so there is no SQL
        # for the statement check to see.
        if (
            ctx.operation.type in ("AddIndexConcurrently", "RemoveIndexConcurrently")
            and ctx.migration.atomic
        ):
            yield Hit(
                message=f"{ctx.operation.type} in an atomic migration: Django refuses to run it."
            )
