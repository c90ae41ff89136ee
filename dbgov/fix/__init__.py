"""``dbgov fix``: write the safe migrations instead of describing them (docs/fix.md)."""

from __future__ import annotations

from .service import FixResult, fix_migration
from .steps import FixError, Rewrite, Step

__all__ = ["FixError", "FixResult", "Rewrite", "Step", "fix_migration"]
