"""`runpython-no-reverse`: RunPython has no reverse_code: the migration cannot be rolled back."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule


@register
class RunPythonWithoutReverse(Rule):
    id = "runpython-no-reverse"
    severity = Severity.CARE
    category = "reversibility"
    summary = "RunPython has no reverse_code: the migration cannot be rolled back."
    why = "`migrate app <previous>` raises IrreversibleError, so a failed deploy cannot be undone."
    safe_alternative = (
        "Pass `reverse_code=` (a function undoing the change, or "
        "`migrations.RunPython.noop` when there is nothing to undo)."
    )
    bad = """\
migrations.RunPython(backfill_currency)
"""
    good = """\
migrations.RunPython(backfill_currency, reverse_code=migrations.RunPython.noop)
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type == "RunPython" and not ctx.operation.reversible:
            yield Hit()
