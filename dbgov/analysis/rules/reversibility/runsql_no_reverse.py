"""`runsql-no-reverse`: RunSQL has no reverse_sql: the migration cannot be rolled back."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule


@register
class RunSqlWithoutReverse(Rule):
    id = "runsql-no-reverse"
    severity = Severity.CARE
    category = "reversibility"
    summary = "RunSQL has no reverse_sql: the migration cannot be rolled back."
    why = "`migrate app <previous>` raises IrreversibleError, so a failed deploy cannot be undone."
    safe_alternative = (
        "Pass `reverse_sql=` with the statements undoing the change "
        "(`migrations.RunSQL.noop` when there is nothing to undo)."
    )
    bad = """\
migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm")
"""
    good = """\
migrations.RunSQL(
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    reverse_sql="DROP EXTENSION IF EXISTS pg_trgm",
)
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type == "RunSQL" and not ctx.operation.reversible:
            yield Hit()
