"""`irreversible-operation`: This operation cannot be reversed."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule


@register
class IrreversibleOperation(Rule):
    id = "irreversible-operation"
    severity = Severity.CARE
    category = "reversibility"
    summary = "This operation cannot be reversed."
    why = "Django marks the operation irreversible: rolling the migration back raises IrreversibleError."
    safe_alternative = (
        "Split the change so that each step can be reversed, or document the roll-forward plan."
    )
    bad = """\
# an operation Django cannot reverse, e.g. a custom one without database_backwards
"""
    good = """\
# split it into reversible steps, or document the roll-forward plan
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type not in ("RunPython", "RunSQL") and not ctx.operation.reversible:
            yield Hit(message=f"{ctx.operation.type} cannot be reversed.")
