"""Each wait, retry and timeout of a guarded migrate: on stderr and in the audit log."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError

__all__ = ["GuardReporter"]


class GuardReporter:
    def __init__(self, database: str, stderr: Any, style: Any) -> None:
        self.database = database
        self.stderr = stderr
        self.style = style
        self.events: list[tuple[str, dict[str, Any]]] = []

    def event(self, action: str, message: str, **data: Any) -> None:
        """Tell the operator (stderr) and the audit log (``migrate.<action>``)."""
        self.stderr.write(self.style.WARNING(f"dbgov: {message}"))
        data = {"database": self.database, **data}
        self.events.append((action, data))
        try:
            from ..governance.services import audit

            audit(
                f"migrate.{action}",
                subject=f"migrate on {self.database}",
                reason=message,
                data=data,
            )
        except DatabaseError as exc:  # dbgov's own tables not migrated yet
            self.stderr.write(f"dbgov: (not in the audit log: {str(exc).strip()})")
