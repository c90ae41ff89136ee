"""`uncommitted-begin`: A BEGIN is never committed."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, MigrationContext, Rule
from .common import BEGIN_KINDS, END_KINDS


@register
class UncommittedBegin(Rule):
    id = "uncommitted-begin"
    severity = Severity.CARE
    category = "robustness"
    scope = "sql"
    summary = "A BEGIN is never committed."
    why = (
        "The statements after it stay in an open transaction: their locks are held until "
        "the connection ends, and nothing is kept if it ends badly."
    )
    safe_alternative = "Close every BEGIN with COMMIT, or drop the transaction statements and let Django manage it."
    bad = """\
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
"""
    good = """\
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
"""

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        open_at = None
        for operation in ctx.migration.operations:
            for index, statement in enumerate(operation.statements):
                kind = statement.facts.kind if statement.facts else ""
                if kind in BEGIN_KINDS:
                    open_at = (operation, index)
                elif kind in END_KINDS:
                    open_at = None
        if open_at is not None:
            yield Hit(
                message="BEGIN without a matching COMMIT keeps every lock taken after it until "
                "the connection ends, blocking the running release's queries on those tables.",
                statement_index=open_at[1],
            )
