"""The migration executor of a guarded migrate (docs/migrate.md).

Every migration runs with ``lock_timeout`` / ``statement_timeout`` set on the session.
A lock timeout (SQLSTATE 55P03) is retried with exponential backoff and jitter, only
where a retry is safe:

- an atomic migration is retried whole: PostgreSQL rolled all of it back (the
  ``django_migrations`` row too), and the project state is a clone from before;
- in a non-atomic migration each autocommit statement is retried on its own (one that
  runs inside an atomic block — a RunPython / RunSQL with its own transaction — is not),
  after dropping the INVALID index a failed CREATE INDEX CONCURRENTLY leaves behind.

A statement timeout (57014) is not retried: the statement is slow, not blocked. Either
way the run stops with one message naming the migration, and exit status 2.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError
from django.db import DatabaseError
from django.db.migrations.executor import MigrationExecutor

from .policy import LOCK_NOT_AVAILABLE, QUERY_CANCELED, GuardPolicy, sqlstate
from .report import GuardReporter

__all__ = ["GuardedExecutor", "bind_executor"]

_CIC = re.compile(
    r'^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([^"\s(]+)"?\s+ON\b',
    re.IGNORECASE,
)


class LockRetriesExhausted(Exception):
    def __init__(self, sql: str, retries: int) -> None:
        super().__init__(sql)
        self.sql = sql
        self.retries = retries


class _StatementRetry:
    """execute_wrapper: retries an autocommit statement that hit the lock timeout."""

    def __init__(self, executor: GuardedExecutor, migration: Any, policy: GuardPolicy) -> None:
        self.executor = executor
        self.migration = migration
        self.policy = policy

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        connection = self.executor.connection
        if connection.in_atomic_block:
            return execute(sql, params, many, context)  # the migration-level retry decides
        retry = 0
        while True:
            try:
                return execute(sql, params, many, context)
            except DatabaseError as exc:
                if sqlstate(exc) != LOCK_NOT_AVAILABLE:
                    raise
                if retry >= self.policy.retries:
                    # Leave no INVALID index behind: the next run starts clean.
                    self.executor.drop_invalid_index(sql)
                    raise LockRetriesExhausted(sql, retry) from exc
                retry += 1
                dropped = self.executor.drop_invalid_index(sql)
                wait = self.policy.wait_ms(retry)
                self.executor.reporter.event(
                    "retry",
                    f"{_label(self.migration)}: lock timeout "
                    f"({self.policy.lock_timeout_ms} ms) on: {_short(sql)}"
                    + (f"; dropped the invalid index {dropped}" if dropped else "")
                    + f"; retry {retry}/{self.policy.retries} of this statement in {wait:.0f} ms",
                    migration=_label(self.migration),
                    scope="statement",
                    retry=retry,
                    wait_ms=round(wait),
                    sql=sql[:2000],
                    dropped_index=dropped,
                )
                time.sleep(wait / 1000)


class GuardedExecutor(MigrationExecutor):
    """``MigrationExecutor`` with timeouts and safe retries per migration."""

    reporter: GuardReporter

    def apply_migration(
        self, state: Any, migration: Any, fake: bool = False, fake_initial: bool = False
    ) -> Any:
        if fake:
            return super().apply_migration(state, migration, fake=True, fake_initial=fake_initial)
        parent = super().apply_migration
        return self._guarded(migration, state, lambda s: parent(s, migration, False, fake_initial))

    def unapply_migration(self, state: Any, migration: Any, fake: bool = False) -> Any:
        if fake:
            return super().unapply_migration(state, migration, fake=True)
        parent = super().unapply_migration
        return self._guarded(migration, state, lambda s: parent(s, migration, False))

    def _guarded(self, migration: Any, state: Any, run: Callable[[Any], Any]) -> Any:
        policy = GuardPolicy.for_migration(migration)
        label = _label(migration)
        retry = 0
        while True:
            try:
                with (
                    self._timeouts(policy),
                    self.connection.execute_wrapper(_StatementRetry(self, migration, policy)),
                ):
                    # An atomic migration may be retried: give it a copy of the state.
                    return run(state.clone() if migration.atomic else state)
            except LockRetriesExhausted as exc:
                self._give_up(
                    label,
                    policy,
                    f"gave up after {exc.retries} retries of a statement that could not get "
                    f"its lock within lock_timeout {policy.lock_timeout_ms} ms: "
                    f"{_short(exc.sql)}. This migration is not atomic: the statements before "
                    "it are applied, and it is not recorded as applied; run migrate again "
                    "when the lock is free",
                    exc,
                )
            except DatabaseError as exc:
                code = sqlstate(exc)
                atomic = migration.atomic and self.connection.features.can_rollback_ddl
                if code == LOCK_NOT_AVAILABLE and atomic and retry < policy.retries:
                    retry += 1
                    wait = policy.wait_ms(retry)
                    self.reporter.event(
                        "retry",
                        f"{label}: lock timeout ({policy.lock_timeout_ms} ms): "
                        f"{str(exc).strip()}; rolled back, retry {retry}/{policy.retries} "
                        f"in {wait:.0f} ms",
                        migration=label,
                        scope="migration",
                        retry=retry,
                        wait_ms=round(wait),
                        error=str(exc).strip(),
                    )
                    time.sleep(wait / 1000)
                    continue
                if code == LOCK_NOT_AVAILABLE:
                    self._give_up(
                        label,
                        policy,
                        f"could not get its locks within lock_timeout {policy.lock_timeout_ms} ms"
                        + (f" after {retry} retries" if retry else "")
                        + f" ({str(exc).strip()}). "
                        + (
                            "Nothing of it was applied (atomic migration)"
                            if atomic
                            else "It is not atomic: what ran before the failing statement stays"
                        ),
                        exc,
                    )
                if code == QUERY_CANCELED and policy.statement_timeout_ms:
                    self._give_up(
                        label,
                        policy,
                        f"a statement ran longer than statement_timeout "
                        f"{policy.statement_timeout_ms} ms and was cancelled. "
                        + (
                            "Nothing of it was applied (atomic migration)"
                            if atomic
                            else "It is not atomic: what ran before the cancelled statement stays"
                        ),
                        exc,
                        action="timeout",
                    )
                raise

    def _give_up(
        self, label: str, policy: GuardPolicy, why: str, exc: BaseException, action: str = "gave-up"
    ) -> None:
        message = f"{label}: {why}. Migrations applied before it in this run stay applied."
        self.reporter.event(action, message, migration=label, retries=policy.retries)
        raise CommandError(f"dbgov: migrate stopped: {message}", returncode=2) from exc

    @contextmanager
    def _timeouts(self, policy: GuardPolicy) -> Iterator[None]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
            )
            before = cursor.fetchone()
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, false), "
                "set_config('statement_timeout', %s, false)",
                [f"{policy.lock_timeout_ms}ms", f"{policy.statement_timeout_ms}ms"],
            )
        try:
            yield
        finally:
            if self.connection.connection is not None and not self.connection.needs_rollback:
                with self.connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('lock_timeout', %s, false), "
                        "set_config('statement_timeout', %s, false)",
                        list(before),
                    )

    def drop_invalid_index(self, sql: str) -> str | None:
        """Drop the INVALID index a failed CREATE INDEX CONCURRENTLY ``sql`` left."""
        match = _CIC.match(sql)
        if not match:
            return None
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.oid::regclass::text FROM pg_class c "
                "JOIN pg_index i ON i.indexrelid = c.oid "
                "WHERE c.relname = %s AND NOT i.indisvalid AND pg_table_is_visible(c.oid)",
                [match.group(1)],
            )
            row = cursor.fetchone()
            if row is None:
                return None
            try:
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {row[0]}")
            except DatabaseError as exc:
                if sqlstate(exc) != LOCK_NOT_AVAILABLE:
                    raise
                return None  # still locked: the next retry tries again
        return str(row[0])


def bind_executor(reporter: GuardReporter) -> type[GuardedExecutor]:
    """A GuardedExecutor class that reports to ``reporter`` (migrate builds its own)."""
    return type("GuardedExecutor", (GuardedExecutor,), {"reporter": reporter})


def _label(migration: Any) -> str:
    return f"{migration.app_label}.{migration.name}"


def _short(sql: str, limit: int = 160) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
