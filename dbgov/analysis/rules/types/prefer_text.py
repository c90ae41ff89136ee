"""`prefer-text`: varchar(n): prefer text with a CHECK on the length."""

from __future__ import annotations

from .. import register
from .common import TypeRule


@register
class PreferText(TypeRule):
    id = "prefer-text"
    bases = frozenset({"varchar", "character varying"})
    opt_in = True  # Django's CharField always has max_length: opt in where it matters
    summary = "varchar(n): prefer text with a CHECK on the length."
    why = (
        "Raising a varchar limit is cheap, but lowering it rewrites the table; a CHECK "
        "(char_length(col) <= n) can be changed with NOT VALID + VALIDATE instead."
    )
    safe_alternative = (
        "Use TextField plus a CheckConstraint on Length(), or keep CharField deliberately."
    )
    bad = """\
ALTER TABLE orders ADD COLUMN note varchar(200);
"""
    good = """\
ALTER TABLE orders ADD COLUMN note text;
"""
    advice = "prefer text with a CHECK constraint on its length."

    def matches(self, type_sql: str) -> bool:
        return super().matches(type_sql) and "(" in type_sql
