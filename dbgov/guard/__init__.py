"""Guarded ``migrate`` (docs/migrate.md): timeouts, safe retries with backoff, one run per
database at a time, every wait and retry in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .executor import GuardedExecutor, bind_executor
from .policy import GuardPolicy
from .report import GuardReporter

__all__ = ["GuardPolicy", "GuardReporter", "GuardedExecutor", "guarded_migrate"]


@contextmanager
def guarded_migrate(database: str, stderr: Any, style: Any) -> Iterator[GuardReporter]:
    """Around Django's ``migrate`` handle(): the advisory lock, and the executor that the
    command builds replaced by a ``GuardedExecutor`` reporting to ``stderr``."""
    from django.core.management.commands import migrate as django_migrate

    from ..conf import dbgov_settings
    from .advisory import migration_lock

    reporter = GuardReporter(database, stderr, style)

    def waiting(message: str) -> None:
        reporter.event("waiting", message)

    with migration_lock(
        database, int(dbgov_settings.MIGRATE_ADVISORY_LOCK), waiting=waiting
    ) as waited:
        if waited:
            reporter.event(
                "waited", f"got the migration lock after {waited:.1f} s", waited_s=round(waited, 3)
            )
        # Django's migrate builds its executor from its module's global (no hook).
        original = vars(django_migrate)["MigrationExecutor"]
        setattr(django_migrate, "MigrationExecutor", bind_executor(reporter))  # noqa: B010
        try:
            yield reporter
        finally:
            setattr(django_migrate, "MigrationExecutor", original)  # noqa: B010
