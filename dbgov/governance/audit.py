"""The audit log: one signed, chained event per governance action."""

from __future__ import annotations

import getpass
from typing import Any

from dbgov.models import (
    AuditEvent,
)

from .common import AnyUser


def actor_name(user: AnyUser | None) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    try:
        return f"system:{getpass.getuser()}"
    except Exception:  # pragma: no cover - no login name (containers)
        return "system"


def audit(
    action: str,
    *,
    actor: AnyUser | None = None,
    subject: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_name=actor_name(actor),
        subject=subject[:400],
        reason=reason,
        data=data or {},
    )
