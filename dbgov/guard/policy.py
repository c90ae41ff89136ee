"""How one migration is guarded: its timeouts and its retry budget (docs/migrate.md)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

__all__ = ["GuardPolicy", "LOCK_NOT_AVAILABLE", "QUERY_CANCELED", "sqlstate"]

LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired (or NOWAIT)
QUERY_CANCELED = "57014"  # statement_timeout expired (or a cancel request)

_OVERRIDABLE = {"lock_timeout_ms", "statement_timeout_ms", "retries"}


@dataclass(frozen=True)
class GuardPolicy:
    lock_timeout_ms: int
    statement_timeout_ms: int
    retries: int
    backoff_ms: int
    max_backoff_ms: int
    jitter: float

    @classmethod
    def for_migration(cls, migration: Any) -> GuardPolicy:
        """The settings, overridden by the migration's ``dbgov_timeouts`` dict."""
        from ..conf import dbgov_settings

        policy = cls(
            lock_timeout_ms=int(dbgov_settings.MIGRATE_LOCK_TIMEOUT_MS),
            statement_timeout_ms=int(dbgov_settings.MIGRATE_STATEMENT_TIMEOUT_MS),
            retries=int(dbgov_settings.MIGRATE_RETRIES),
            backoff_ms=int(dbgov_settings.MIGRATE_BACKOFF_MS),
            max_backoff_ms=int(dbgov_settings.MIGRATE_MAX_BACKOFF_MS),
            jitter=float(dbgov_settings.MIGRATE_JITTER),
        )
        override = getattr(migration, "dbgov_timeouts", None) or {}
        if not isinstance(override, dict) or set(override) - _OVERRIDABLE:
            from django.core.management.base import CommandError

            raise CommandError(
                f"dbgov: {migration.app_label}.{migration.name}: dbgov_timeouts must be a dict "
                f"with keys among {sorted(_OVERRIDABLE)}, not {override!r}",
                returncode=2,
            )
        return cls(**{**policy.__dict__, **{k: int(v) for k, v in override.items()}})

    def wait_ms(self, retry: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with jitter before retry number ``retry`` (1-based)."""
        base = min(float(self.max_backoff_ms), self.backoff_ms * 2.0 ** (retry - 1))
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, base * (1 + spread))


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (Django wraps psycopg's in ``__cause__``)."""
    seen: BaseException | None = exc
    while seen is not None:
        code = getattr(seen, "sqlstate", None)
        if code:
            return str(code)
        seen = seen.__cause__
    return None
