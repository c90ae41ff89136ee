"""Database routing of the demo project."""

from __future__ import annotations

from typing import Any

# The apps the staging alias holds: the demo shop and what its tables reference
# (shop_orders.user_id -> auth_user; auth's tables reference contenttypes). Without
# auth, `migrate shop 0002 --database staging` fails on the foreign key to auth_user.
STAGING_APPS = frozenset({"shop", "auth", "contenttypes"})


class StagingRouter:
    """Keep dbgov's own tables (and the rest of the project) off the staging alias.

    Staging's schema is owned by its own deploys; dbgov only copies it for rehearsals
    (which migrate the copy explicitly, bypassing this router).
    """

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if db == "staging":
            return app_label in STAGING_APPS
        return None
