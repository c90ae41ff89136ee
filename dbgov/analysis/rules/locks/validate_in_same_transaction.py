"""`validate-in-same-transaction`: VALIDATE CONSTRAINT runs in the same transaction as its ADD … NOT VALID."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target
from .common import AE


@register
class ValidateInSameTransaction(Rule):
    needs_actions = frozenset({"VALIDATE CONSTRAINT"})
    kinds = frozenset({"ALTER TABLE"})
    id = "validate-in-same-transaction"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "VALIDATE CONSTRAINT runs in the same transaction as its ADD … NOT VALID."
    why = (
        "NOT VALID only helps when the validation commits separately: in the same "
        "transaction, the ACCESS EXCLUSIVE (CHECK) or SHARE ROW EXCLUSIVE (FOREIGN KEY) lock "
        "of the ADD is still held while VALIDATE scans the whole table."
    )
    safe_alternative = (
        "Put `ALTER TABLE … VALIDATE CONSTRAINT …` in a separate, later migration (RunSQL "
        "with `reverse_sql=migrations.RunSQL.noop`)."
    )
    bad = """\
-- lint: --assume-in-transaction
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT total_positive;
"""
    good = """\
-- lint: --assume-in-transaction
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT other_constraint;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if not ctx.in_transaction:
            return
        for cmd in commands(f, "VALIDATE CONSTRAINT"):
            name = cmd.constraint_name
            for earlier in ctx.previous_in_transaction:
                for added in commands(earlier):
                    con = added.constraint
                    if con is not None and con.name == name and con.not_valid:
                        held = max(
                            (lk.lock for lk in earlier.locks), key=lambda lk: lk.rank, default=AE
                        )
                        yield Hit(
                            message=f"VALIDATE CONSTRAINT {name} on {target(f)} runs in the "
                            f"same transaction as its ADD … NOT VALID, so the ADD's {held.value} "
                            "is held during the whole scan and the running release's "
                            f"{'queries' if held.blocks_reads else 'writes'} wait.",
                            table=target(f),
                            lock=held,
                            scans=True,
                        )
