"""`table-standard-columns`: A new table lacks the standard columns (id, created_at, updated_at)."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import CreateTableDetail
from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule
from .common import bare_table, setting

_REQUIRED_COLUMNS = ("id", "created_at", "updated_at")


@register
class StandardColumns(Rule):
    id = "table-standard-columns"
    severity = Severity.WARNING
    category = "conventions"
    summary = "A new table lacks the standard columns (id, created_at, updated_at)."
    why = (
        "Every table gets a surrogate key and timestamps so rows can be referenced, "
        "audited and synchronised incrementally."
    )
    safe_alternative = (
        "Add `created_at = models.DateTimeField(auto_now_add=True)` and "
        "`updated_at = models.DateTimeField(auto_now=True)` (an abstract base model helps); "
        'configure the list with DBGOV["REQUIRED_COLUMNS"].'
    )
    bad = """\
migrations.CreateModel("Coupon", [("id", models.BigAutoField(primary_key=True)), ("code", models.TextField())])
"""
    good = """\
migrations.CreateModel("Coupon", [
    ("id", models.BigAutoField(primary_key=True)),
    ("code", models.TextField()),
    ("created_at", models.DateTimeField(auto_now_add=True)),
    ("updated_at", models.DateTimeField(auto_now=True)),
])
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type != "CreateModel":
            return
        required = setting(ctx, "REQUIRED_COLUMNS", _REQUIRED_COLUMNS)
        for facts in ctx.facts():
            created = facts.detail(CreateTableDetail)
            if created is not None:  # the model's own table comes first
                names = {c.name for c in created.columns}
                missing = [c for c in required if c not in names]
                if missing:
                    table = bare_table(created.table)
                    yield Hit(message=f"Table {table} has no {', '.join(missing)}.", table=table)
                return
