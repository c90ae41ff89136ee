"""One migrate run per database at a time: a session advisory lock, held on a connection
of its own for the whole run (released when the run ends, or its process dies)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections

__all__ = ["migration_lock"]

_HOLDER = """
SELECT a.pid, coalesce(a.application_name, ''), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
      SELECT oid FROM pg_database WHERE datname = current_database())
  AND ((l.classid::bigint << 32) | l.objid::bigint) = %s AND l.objsubid = 1
"""


@contextmanager
def migration_lock(alias: str, key: int, *, waiting: Callable[[str], None]) -> Iterator[float]:
    """Hold the advisory lock ``key`` on ``alias``'s database; yields the seconds waited.

    When another run holds it, ``waiting`` is told who (pid, application, since when) and
    this run waits for it without a timeout: the other run's migrations come first.
    """
    from django.core.management.base import CommandError

    from ..sandbox import SandboxError
    from ..sandbox.server import ServerAccess

    dbname = connections[alias].settings_dict["NAME"]
    try:
        conn = ServerAccess.from_alias(alias).connect(dbname, application_name="dbgov migrate")
    except SandboxError as exc:
        raise CommandError(f"dbgov: migrate: {exc}", returncode=2) from exc
    try:
        conn.execute("SET lock_timeout = 0")
        conn.execute("SET statement_timeout = 0")
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        waited = 0.0
        if not (row and row[0]):
            holder = conn.execute(_HOLDER, [key]).fetchone()
            who = (
                f"pid {holder[0]} ({holder[1] or 'no application name'}, connected "
                f"{holder[2]:%Y-%m-%d %H:%M:%S %Z})"
                if holder
                else "another session"
            )
            waiting(
                f"another migrate is running on database {dbname!r} ({who}): "
                "waiting for it to finish"
            )
            started = time.monotonic()
            conn.execute("SELECT pg_advisory_lock(%s)", [key])
            waited = time.monotonic() - started
        yield waited
    finally:
        conn.close()  # ends the session: the lock is released
