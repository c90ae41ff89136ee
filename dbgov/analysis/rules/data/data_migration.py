"""`data-migration`: A data migration runs Python once, when it is applied: review its speed and locks."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule


@register
class DataMigration(Rule):
    id = "data-migration"
    severity = Severity.CARE
    category = "data"
    summary = "A data migration runs Python once, when it is applied: review its speed and locks."
    why = (
        "RunPython code is not visible as SQL: it may update whole tables in one "
        "transaction, holding row locks until the migration commits."
    )
    safe_alternative = (
        "Keep data migrations separate from schema changes, make them idempotent and "
        "batched (update in chunks of primary keys), use `apps.get_model`, and give them "
        "`reverse_code`."
    )
    bad = """\
migrations.RunPython(backfill, migrations.RunPython.noop)  # next to AddField
"""
    good = """\
# 0012_add_field.py: AddField(null=True)
# 0013_backfill.py (atomic = False): RunPython(backfill_in_batches, noop)
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type == "RunPython":
            yield Hit()
