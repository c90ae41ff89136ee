"""Database routing of the demo project."""

from __future__ import annotations

from typing import Any


class StagingRouter:
    """Keep `manage.py migrate` off the staging alias.

    Staging's schema is owned by its own deploys; dbgov only copies it for rehearsals
    (which migrate the copy explicitly, bypassing this router).
    """

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if db == "staging":
            return app_label == "shop"
        return None
