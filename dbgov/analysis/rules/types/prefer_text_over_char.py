"""`prefer-text-over-char`: char(n) pads with spaces and is never faster than text."""

from __future__ import annotations

from .. import register
from .common import TypeRule


@register
class PreferTextOverChar(TypeRule):
    id = "prefer-text-over-char"
    bases = frozenset({"char", "character", "bpchar"})
    summary = "char(n) pads with spaces and is never faster than text."
    why = "char(n) stores and compares blank-padded values, which surprises code and wastes space."
    safe_alternative = "Use text (TextField) or varchar (CharField)."
    bad = """\
ALTER TABLE orders ADD COLUMN country char(2);
"""
    good = """\
ALTER TABLE orders ADD COLUMN country varchar(2);
"""
    advice = "prefer text."
