"""`prefer-timestamptz`: timestamp without time zone loses the time zone of every value."""

from __future__ import annotations

from .. import register
from .common import TypeRule


@register
class PreferTimestamptz(TypeRule):
    id = "prefer-timestamptz"
    bases = frozenset({"timestamp", "timestamp without time zone"})
    summary = "timestamp without time zone loses the time zone of every value."
    why = (
        "Values are stored as wall-clock times: comparisons across zones and DST changes "
        "go wrong; changing the type later rewrites the table (before PostgreSQL 12, or "
        "when TimeZone is not UTC)."
    )
    safe_alternative = "Use `timestamp with time zone` (Django's DateTimeField with USE_TZ = True)."
    bad = """\
ALTER TABLE orders ADD COLUMN shipped_at timestamp;
"""
    good = """\
ALTER TABLE orders ADD COLUMN shipped_at timestamp with time zone;
"""
    advice = "prefer timestamp with time zone."

    def matches(self, type_sql: str) -> bool:
        t = " ".join(type_sql.lower().split())
        if t.startswith("timestamptz") or "with time zone" in t:
            return False
        return t.startswith("timestamp")
