"""`render-failed`: dbgov could not render this operation's SQL."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule


@register
class RenderFailed(Rule):
    id = "render-failed"
    severity = Severity.ERROR
    # Not a team convention: what could not be analysed needs a human in every app.
    category = "analysis"
    summary = "dbgov could not render this operation's SQL."
    why = (
        "The SQL of the operation is unknown, so nothing can be said about its locks; "
        "it usually fails on `migrate` the same way."
    )
    safe_alternative = "Fix the error shown (run `manage.py sqlmigrate` to reproduce it)."
    bad = """\
migrations.RemoveConstraint("order", "no_such_constraint")
"""
    good = """\
# fix the operation so that `manage.py sqlmigrate` renders it
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.error:
            yield Hit(message=f"SQL could not be rendered: {ctx.operation.error}")
