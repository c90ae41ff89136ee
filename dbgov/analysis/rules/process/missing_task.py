"""`missing-task`: The migration names no task (T-NNN)."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, MigrationContext, Rule


@register
class MissingTask(Rule):
    id = "missing-task"
    severity = Severity.CARE
    category = "process"
    summary = "The migration names no task (T-NNN)."
    why = (
        "Every migration belongs to a task so that reviewers can check it against the "
        "task's acceptance criteria and approvals can be traced."
    )
    safe_alternative = (
        'Add `dbgov_task = "T-NNN"` to the Migration class, or generate it with '
        "`manage.py dbgov makemigrations --task T-NNN`."
    )
    bad = """\
class Migration(migrations.Migration):
    operations = [...]
"""
    good = """\
class Migration(migrations.Migration):
    dbgov_task = "T-021"
    operations = [...]
"""

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        if not ctx.migration.task:
            yield Hit(message=f"{ctx.migration.label} names no task (T-NNN).")
