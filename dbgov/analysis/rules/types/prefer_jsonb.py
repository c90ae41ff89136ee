"""`prefer-jsonb`: json: prefer jsonb."""

from __future__ import annotations

from .. import register
from .common import TypeRule


@register
class PreferJsonb(TypeRule):
    id = "prefer-jsonb"
    bases = frozenset({"json"})
    summary = "json: prefer jsonb."
    why = (
        "json stores the text as is: no indexing, no equality operator (DISTINCT, GROUP BY "
        "and UNIQUE fail), re-parsed on every access."
    )
    safe_alternative = "Use jsonb (Django's JSONField on PostgreSQL)."
    bad = """\
ALTER TABLE orders ADD COLUMN meta json;
"""
    good = """\
ALTER TABLE orders ADD COLUMN meta jsonb;
"""
    advice = "prefer jsonb."
