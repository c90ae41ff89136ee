"""The sandbox: where dbgov executes migration SQL, and nowhere else.

A gate must never execute what it gates. dbgov renders pending migrations (Django's
schema editor needs a database in the right state to introspect) on a disposable
PostgreSQL that holds no data and cannot reach anything: an embedded cluster it starts
itself (cluster.py), or a dedicated server (``DBGOV["SANDBOX_URL"]``). The target is
only read: its migration table, and its schema from the catalog (snapshot.py,
templates.py). One module owns every disposable database dbgov makes, in the sandbox
and on staging (disposable.py). See docs/sandbox.md.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from .disposable import DisposableDatabase, create_database, reap
from .server import SandboxError, SandboxServer, ServerAccess, open_sandbox_server
from .templates import prefix

__all__ = [
    "RunDatabase",
    "SandboxError",
    "SandboxServer",
    "ServerAccess",
    "open_sandbox_server",
    "run_database",
]

logger = logging.getLogger("dbgov.sandbox")


class RunDatabase:
    """One run's database in the sandbox, and a Django connection to it.

    The Django connection uses the target alias's backend with the *target's* server
    version (Django decides which SQL to write from ``pg_version``), so the SQL is what
    ``migrate`` would send to the target even when the sandbox runs a newer major.
    """

    def __init__(
        self,
        server: SandboxServer,
        database: DisposableDatabase,
        wrapper: BaseDatabaseWrapper,
    ) -> None:
        self.server = server
        self.database = database
        self.wrapper = wrapper

    @property
    def name(self) -> str:
        return self.database.name

    def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            self.wrapper.close()


@contextlib.contextmanager
def run_database(
    server: SandboxServer,
    *,
    alias: str,
    target_version: int | None,
    template: str | None = None,
    purpose: str = "plan",
) -> Iterator[RunDatabase]:
    """A fresh database for one run (a clone of ``template``), dropped afterwards."""
    with contextlib.suppress(Exception):
        dropped = reap(server.admin, prefix())
        if dropped:
            logger.info("dropped %d orphaned sandbox database(s): %s", len(dropped), dropped)
    owner_role = server.render.params.get("user") if server.kind == "embedded" else None
    database = create_database(
        server.admin,
        prefix=prefix(),
        purpose=purpose,
        template=template,
        owner_role=str(owner_role) if owner_role else None,
    )
    wrapper: BaseDatabaseWrapper | None = None
    try:
        base: dict[str, Any] = connections.settings[alias]
        settings_dict = server.django_settings(base, database.name)
        wrapper = type(connections[alias])(settings_dict, alias)
        if target_version:
            # Django's features (and so its SQL) follow the target's version.
            wrapper.pg_version = target_version  # type: ignore[attr-defined]
        yield RunDatabase(server, database, wrapper)
    finally:
        if wrapper is not None:
            with contextlib.suppress(Exception):
                wrapper.close()
        database.drop()
