"""What several `locks` rules share."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import LockLevel, Severity
from ..base import Hit, Rule, StatementContext
from ..helpers import target

AE = LockLevel.ACCESS_EXCLUSIVE


class RewriteRule(Rule):
    kinds = frozenset({"ALTER TABLE"})
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    actions: tuple[str, ...] = ()

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for action in self.actions:
            if action in ctx.facts.actions:
                yield Hit(
                    message=f"{action} on {target(ctx.facts)} rewrites it under ACCESS "
                    "EXCLUSIVE: the running release's reads and writes wait for the whole copy.",
                    table=target(ctx.facts),
                    lock=AE,
                    rewrites=True,
                )
