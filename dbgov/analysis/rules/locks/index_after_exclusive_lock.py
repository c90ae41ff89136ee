"""`index-after-exclusive-lock`: An index is built while the same transaction holds ACCESS EXCLUSIVE on the table."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import target
from .common import AE


@register
class IndexAfterAlterInTransaction(Rule):
    kinds = frozenset({"CREATE INDEX"})
    id = "index-after-exclusive-lock"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "An index is built while the same transaction holds ACCESS EXCLUSIVE on the table."
    why = (
        "Locks are held until the transaction commits: after an ALTER TABLE took ACCESS "
        "EXCLUSIVE, the CREATE INDEX that follows in the same transaction builds (a full "
        "scan) while reads and writes are blocked."
    )
    safe_alternative = (
        "Move the index to its own migration with `atomic = False` and "
        "`AddIndexConcurrently` (for a field: `db_index=False` on AddField, then the index)."
    )
    bad = """\
-- lint: --assume-in-transaction
ALTER TABLE "orders" ADD COLUMN "ref" text NULL;
CREATE INDEX "orders_ref_idx" ON "orders" ("ref");
"""
    good = """\
-- lint: --assume-in-transaction
ALTER TABLE "orders" ADD COLUMN "ref" text NULL;
CREATE INDEX "customers_ref_idx" ON "customers" ("ref");
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind != "CREATE INDEX" or not ctx.in_transaction:
            return
        table = target(f)
        for earlier in ctx.previous_in_transaction:
            if earlier.kind == "CREATE TABLE":
                continue
            for lock in earlier.locks:
                if lock.lock is AE and lock.table == table:
                    yield Hit(
                        message=f"CREATE INDEX on {table} runs after {earlier.kind} "
                        f"({', '.join(earlier.actions) or earlier.kind}) took ACCESS EXCLUSIVE in "
                        "the same transaction: the running release's reads and writes on "
                        f"{table} wait for the whole build.",
                        table=table,
                        lock=AE,
                        scans=True,
                    )
                    return
