"""``{% rehearsal_ready as ready %}``: whether Rehearse buttons may show (rehearsal is set up).

The buttons show only to users with ``dbgov.rehearse_task`` (the templates check the
permission) and only when a rehearsal could be queued (dbgov.explain.readiness)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def rehearsal_ready() -> bool:
    from dbgov.explain.readiness import rehearsal_readiness

    return rehearsal_readiness().ready
