"""Database routing of the demo project."""

from __future__ import annotations

from typing import Any


class StagingRouter:
    """Staging mirrors production: every app's tables live there.

    (Restricting staging to the shop app broke its history: shop's orders reference
    auth_user.) `manage.py migrate` only touches staging with an explicit
    ``--database staging``; dbgov rehearsals never migrate staging itself, only a
    disposable copy of it, reached under an alias that starts with
    ``DBGOV["COPY_PREFIX"]``.
    """

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return None
