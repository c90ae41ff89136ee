"""`enum-add-value`: ALTER TYPE … ADD VALUE appends the label; order-sensitive code may change behaviour."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import EnumDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class EnumAddValue(Rule):
    kinds = frozenset({"ALTER TYPE"})
    id = "enum-add-value"
    severity = Severity.WARNING
    category = "breaking"
    scope = "sql"
    summary = "ALTER TYPE … ADD VALUE appends the label; order-sensitive code may change behaviour."
    why = (
        "Without BEFORE/AFTER the new label sorts last, which changes ORDER BY and range "
        "comparisons on the enum; before PostgreSQL 12 it cannot run in a transaction, and "
        "the new value cannot be used until the adding transaction commits."
    )
    safe_alternative = (
        "Say where the label goes (`ADD VALUE 'x' BEFORE 'y'`), use `IF NOT EXISTS`, and put "
        "it in its own migration (with `atomic = False` before PostgreSQL 12); or prefer a "
        "lookup table / CHECK constraint over an enum type."
    )
    bad = """\
ALTER TYPE order_status ADD VALUE 'refunded';
"""
    good = """\
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        enum = ctx.facts.detail(EnumDetail)
        if enum and "ADD VALUE" in ctx.facts.actions and not (enum.before or enum.after):
            yield Hit(
                message=f"Enum {enum.type} gets {enum.value!r} without "
                "BEFORE/AFTER: it sorts last, which changes the running release's ORDER BY and "
                "range comparisons on the type."
            )
