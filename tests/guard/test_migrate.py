"""Guarded ``migrate`` on real PostgreSQL: a conflicting lock held from a second
connection, retries with backoff, a clean stop when the lock never comes, and two
concurrent runs that take turns."""

from __future__ import annotations

import io
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import override_settings

from dbgov.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {
    "MIGRATE_LOCK_TIMEOUT_MS": 100,
    "MIGRATE_RETRIES": 4,
    "MIGRATE_BACKOFF_MS": 100,
    "MIGRATE_MAX_BACKOFF_MS": 400,
    "MIGRATE_JITTER": 0.25,
}


def _connect(alias: str) -> psycopg.Connection:
    s = connections[alias].settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"] or "postgres",
        dbname=s["NAME"],
        autocommit=True,
    )


@pytest.fixture
def ledger_db(scratch_db, shop_migrations):
    """shop.0001 applied (table shop_ledger, 1,000 rows); 0002 (atomic: type change and
    index) pending."""
    shop_migrations("tests.analysis.scenarios.sized")
    call_command("migrate", "shop", "0001", database=scratch_db, verbosity=0)
    with _connect(scratch_db) as conn:
        conn.execute("INSERT INTO shop_ledger (amount) SELECT g FROM generate_series(1, 1000) g")
    with override_settings(DBGOV={**settings.DBGOV, **FAST}):
        yield scratch_db


class LockHolder:
    """A second session holding a lock that conflicts with the migration's."""

    def __init__(self, alias: str, sql: str) -> None:
        self.conn = _connect(alias)
        self.conn.execute("BEGIN")
        self.conn.execute(sql)

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release)
        timer.start()
        return timer


def _state(alias: str) -> tuple[str, bool, bool]:
    with _connect(alias) as conn:
        (column_type,) = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'shop_ledger'::regclass AND attname = 'amount'"
        ).fetchone()
        recorded = conn.execute(
            "SELECT 1 FROM django_migrations WHERE app = 'shop' AND name = '0002_widen'"
        ).fetchone()
        index = conn.execute("SELECT to_regclass('shop_ledger_amount')").fetchone()[0]
    return column_type, recorded is not None, index is not None


def _migrate(alias: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("migrate", "shop", database=alias, stdout=out, stderr=err, no_color=True)
    return out.getvalue(), err.getvalue()


def test_a_held_lock_times_out_then_retries_with_backoff_until_it_is_released(ledger_db):
    holder = LockHolder(ledger_db, "LOCK TABLE shop_ledger IN ACCESS SHARE MODE")
    timer = holder.release_after(0.6)
    started = time.monotonic()
    _, err = _migrate(ledger_db)
    elapsed = time.monotonic() - started
    timer.join()
    assert _state(ledger_db) == ("bigint", True, True)
    retries = list(AuditEvent.objects.filter(action="migrate.retry").order_by("pk"))
    assert len(retries) >= 2
    assert [e.data["retry"] for e in retries] == list(range(1, len(retries) + 1))
    assert all(e.data["migration"] == "shop.0002_widen" for e in retries)
    assert all(e.data["scope"] == "migration" for e in retries)
    waits = [e.data["wait_ms"] for e in retries]
    assert waits[1] > waits[0]  # exponential (100 ms, 200 ms, … within ±25 %)
    assert "lock timeout (100 ms)" in err and "retry 1/4" in err
    assert elapsed >= 0.6


def test_a_lock_never_released_stops_cleanly_after_the_limit_database_unchanged(ledger_db):
    holder = LockHolder(ledger_db, "LOCK TABLE shop_ledger IN ACCESS SHARE MODE")
    try:
        with pytest.raises(CommandError) as failed:
            _migrate(ledger_db)
    finally:
        holder.release()
    assert failed.value.returncode == 2
    message = str(failed.value)
    assert "shop.0002_widen" in message and "after 4 retries" in message
    assert "Nothing of it was applied (atomic migration)" in message
    assert _state(ledger_db) == ("integer", False, False)
    assert AuditEvent.objects.filter(action="migrate.retry").count() == 4
    (gave_up,) = AuditEvent.objects.filter(action="migrate.gave-up")
    assert gave_up.data["migration"] == "shop.0002_widen"
    # and the next run, with the lock free, applies it
    _migrate(ledger_db)
    assert _state(ledger_db) == ("bigint", True, True)


def test_a_per_migration_override_and_a_statement_timeout(ledger_db, shop_migrations):
    from dbgov.guard import GuardPolicy

    class Slow:
        app_label, name = "shop", "0009_slow"
        dbgov_timeouts = {"lock_timeout_ms": 5000, "retries": 0}

    policy = GuardPolicy.for_migration(Slow)
    assert (policy.lock_timeout_ms, policy.retries, policy.backoff_ms) == (5000, 0, 100)

    Slow.dbgov_timeouts = {"lock_timeout": 1}  # type: ignore[dict-item]
    with pytest.raises(CommandError, match="dbgov_timeouts must be a dict"):
        GuardPolicy.for_migration(Slow)

    with _connect(ledger_db) as conn:
        conn.execute("INSERT INTO shop_ledger (amount) SELECT g FROM generate_series(1, 300000) g")
    with (
        override_settings(DBGOV={**settings.DBGOV, **FAST, "MIGRATE_STATEMENT_TIMEOUT_MS": 1}),
        pytest.raises(CommandError) as failed,
    ):
        _migrate(ledger_db)
    assert failed.value.returncode == 2
    assert "statement_timeout 1 ms" in str(failed.value)
    assert _state(ledger_db) == ("integer", False, False)
    assert AuditEvent.objects.filter(action="migrate.timeout").count() == 1


def test_two_concurrent_runs_take_turns_on_the_advisory_lock(ledger_db):
    holder = LockHolder(ledger_db, "LOCK TABLE shop_ledger IN ACCESS SHARE MODE")
    results: dict[str, tuple[str, str] | BaseException] = {}

    def run(name: str) -> None:
        try:
            results[name] = _migrate(ledger_db)
        except BaseException as exc:  # reported below
            results[name] = exc
        finally:
            connections.close_all()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    deadline = time.monotonic() + 10
    while not AuditEvent.objects.filter(action="migrate.retry").exists():
        assert time.monotonic() < deadline, "the first run never started retrying"
        time.sleep(0.05)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    time.sleep(0.5)
    assert second.is_alive()  # waiting for the first run's advisory lock
    holder.release()
    first.join(30)
    second.join(30)
    assert not isinstance(results["first"], BaseException), results["first"]
    assert not isinstance(results["second"], BaseException), results["second"]
    out_first, _ = results["first"]
    out_second, err_second = results["second"]
    assert "Applying shop.0002_widen... OK" in out_first
    assert "another migrate is running" in err_second
    assert "No migrations to apply" in out_second
    assert _state(ledger_db) == ("bigint", True, True)
    waiting = AuditEvent.objects.get(action="migrate.waiting")
    assert "dbgov migrate" in waiting.reason  # the holder's application name
    assert AuditEvent.objects.filter(action="migrate.waited").count() == 1


def test_non_atomic_concurrent_index_retried_per_statement_invalid_index_dropped(
    scratch_db, shop_migrations
):
    shop_migrations("tests.guard.concurrent_index")
    call_command("migrate", "shop", "0001", database=scratch_db, verbosity=0)
    # An old snapshot: CREATE INDEX CONCURRENTLY waits for it after building the index,
    # times out there and leaves the index INVALID.
    holder = LockHolder(scratch_db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    holder.conn.execute("SELECT count(*) FROM django_migrations")
    timer = holder.release_after(1.0)
    with override_settings(DBGOV={**settings.DBGOV, **FAST, "MIGRATE_RETRIES": 8}):
        _, err = _migrate(scratch_db)
    timer.join()
    retries = list(AuditEvent.objects.filter(action="migrate.retry").order_by("pk"))
    assert retries and all(e.data["scope"] == "statement" for e in retries)
    assert any(e.data["dropped_index"] for e in retries)
    assert "dropped the invalid index" in err
    with _connect(scratch_db) as conn:
        rows = conn.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = 'shop_ledger'::regclass ORDER BY 1"
        ).fetchall()
    assert rows == [("shop_ledger_amount", True), ("shop_ledger_pkey", True)]


def test_non_atomic_statement_gives_up_cleanly_and_leaves_no_invalid_index(
    scratch_db, shop_migrations
):
    shop_migrations("tests.guard.concurrent_index")
    call_command("migrate", "shop", "0001", database=scratch_db, verbosity=0)
    holder = LockHolder(scratch_db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    holder.conn.execute("SELECT count(*) FROM django_migrations")
    try:
        with (
            override_settings(DBGOV={**settings.DBGOV, **FAST, "MIGRATE_RETRIES": 1}),
            pytest.raises(CommandError) as failed,
        ):
            _migrate(scratch_db)
    finally:
        holder.release()
    assert failed.value.returncode == 2
    assert "gave up after 1 retries" in str(failed.value)
    assert "This migration is not atomic" in str(failed.value)
    with _connect(scratch_db) as conn:
        indexes = conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = 'shop_ledger'::regclass ORDER BY 1"
        ).fetchall()
        recorded = conn.execute(
            "SELECT 1 FROM django_migrations WHERE app = 'shop' AND name = '0002_concurrent'"
        ).fetchone()
    assert indexes == [("shop_ledger_pkey",)] and recorded is None
    _migrate(scratch_db)  # the lock is free: the next run applies it
    assert AuditEvent.objects.filter(action="migrate.gave-up").count() == 1


def test_an_unreachable_database_is_one_message_and_exit_2(scratch_db):
    connections.settings[scratch_db]["PORT"] = 1  # nothing listens there
    connections[scratch_db].close()
    try:
        with pytest.raises(CommandError) as failed:
            _migrate(scratch_db)
    finally:
        connections.settings[scratch_db]["PORT"] = connections.settings["default"]["PORT"]
    assert failed.value.returncode == 2
    message = str(failed.value)
    assert "scratch" in message and "\n" not in message  # one line naming the database
