"""What the governance modules share: the error they raise, the integrity rule ids."""

from __future__ import annotations

from typing import Any

__all__ = [
    "INTEGRITY_RULES",
    "RULE_APPLIED_CHANGED",
    "RULE_APPLIED_MISSING",
    "AnyUser",
    "GovernanceError",
]

# A user model instance or AnonymousUser (the user model is swappable).
AnyUser = Any

RULE_APPLIED_CHANGED = "applied-migration-changed"
RULE_APPLIED_MISSING = "applied-migration-missing"
INTEGRITY_RULES = frozenset({RULE_APPLIED_CHANGED, RULE_APPLIED_MISSING})


class GovernanceError(Exception):
    """A governance action that cannot be done; the message says why, for a human."""
