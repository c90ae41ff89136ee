"""Apply a task's pending migrations on a copy, one by one, and record what happened.

For each migration: the SQL actually executed (``connection.execute_wrapper``), its
duration, and the locks its connection held, sampled from ``pg_locks`` by a second
connection (in the background every DBGOV["LOCK_SAMPLE_INTERVAL_MS"] and after every
statement, so that the locks an atomic migration holds until COMMIT are never missed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations import RunSQL
from django.db.migrations.state import ProjectState

from dbgov.conf import dbgov_settings

from .copy import connect_raw
from .patterns import Query, sql_tables

__all__ = [
    "LockSampler",
    "MigrationOutcome",
    "Rehearsal",
    "migration_tables",
    "pending_plan",
    "relevant_patterns",
]

Key = tuple[str, str]


def task_of(migration: Migration) -> str:
    return str(getattr(migration, "dbgov_task", "") or "")


def pending_plan(loader: MigrationLoader, task_key: str) -> list[Migration]:
    """The pending migrations naming ``task_key`` plus their pending dependencies,
    in the order Django would apply them."""
    applied = set(loader.applied_migrations or {})
    targets = [
        key
        for key, migration in sorted(loader.disk_migrations.items())
        if task_of(migration) == task_key and key not in applied and key in loader.graph.nodes
    ]
    plan: list[Key] = []
    for target in targets:
        for key in loader.graph.forwards_plan(target):
            if key not in applied and key not in plan:
                plan.append(key)
    return [loader.graph.nodes[key] for key in plan]


def _db_table(state: ProjectState, app_label: str, model_name: str) -> str | None:
    model_state = state.models.get((app_label, model_name.lower()))
    if model_state is None:
        return None
    return model_state.options.get("db_table") or f"{app_label}_{model_name.lower()}"


def migration_tables(loader: MigrationLoader, migration: Migration) -> set[str]:
    """Tables a migration's operations touch (before or after it runs)."""
    key = (migration.app_label, migration.name)
    states = [loader.project_state(key, at_end=False), loader.project_state(key, at_end=True)]
    tables: set[str] = set()
    for op in migration.operations:
        names = [
            getattr(op, attr)
            for attr in ("model_name", "name", "old_name", "new_name")
            if isinstance(getattr(op, attr, None), str)
        ]
        for name in names:
            for state in states:
                table = _db_table(state, migration.app_label, name)
                if table:
                    tables.add(table)
        if isinstance(op, RunSQL):
            statements = op.sql if isinstance(op.sql, list | tuple) else [op.sql]
            for statement in statements:
                if isinstance(statement, str):
                    tables |= sql_tables(statement)
    return tables


def index_purposes(plan: Iterable[Migration]) -> dict[str, str]:
    """``dbgov_index_purpose`` of the plan's migrations: index name -> pattern name."""
    purposes: dict[str, str] = {}
    for migration in plan:
        purposes.update(getattr(migration, "dbgov_index_purpose", None) or {})
    return purposes


def relevant_patterns(
    registry: dict[str, Query], plan: list[Migration], tables: set[str]
) -> tuple[list[Query], list[str]]:
    """Patterns named by the plan's index purposes, then those touching its tables.

    Returns the patterns and the names the migrations give that no pattern has.
    """
    named = list(dict.fromkeys(index_purposes(plan).values()))
    chosen = [registry[n] for n in named if n in registry]
    missing = [n for n in named if n not in registry]
    for query in registry.values():
        if query not in chosen and query.tables & tables:
            chosen.append(query)
    return chosen, missing


# Lock sampling -----------------------------------------------------------------

_LOCKS_SQL = """
SELECT l.locktype, l.mode, l.granted,
       COALESCE(n.nspname || '.' || c.relname, 'oid ' || l.relation::text)
FROM pg_locks l
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = %s AND l.locktype = 'relation'
  AND COALESCE(n.nspname, '') NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
"""


class LockSampler:
    """Samples pg_locks for one backend pid from a second connection."""

    def __init__(self, alias: str, dbname: str, pid: int) -> None:
        self.pid = pid
        self.interval = float(dbgov_settings.LOCK_SAMPLE_INTERVAL_MS) / 1000.0
        self._conn = connect_raw(alias, dbname)
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._locks: dict[tuple[str, str], dict[str, Any]] = {}
        self._started = time.perf_counter()
        self._thread: threading.Thread | None = None

    def start_migration(self) -> None:
        with self._mutex:
            self._locks = {}
            self._started = time.perf_counter()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="dbgov-lock-sampler", daemon=True
            )
            self._thread.start()

    def sample(self) -> None:
        with self._mutex:
            if self._conn.closed:
                return
            try:
                rows = self._conn.execute(_LOCKS_SQL, [self.pid]).fetchall()
            except psycopg.Error:
                return
            at_ms = round((time.perf_counter() - self._started) * 1000, 1)
            for locktype, mode, granted, relation in rows:
                entry = self._locks.setdefault(
                    (relation, mode),
                    {
                        "relation": relation,
                        "mode": mode,
                        "locktype": locktype,
                        "granted": bool(granted),
                        "first_seen_ms": at_ms,
                        "last_seen_ms": at_ms,
                        "samples": 0,
                    },
                )
                entry["samples"] += 1
                entry["last_seen_ms"] = at_ms
                entry["granted"] = entry["granted"] and bool(granted)

    def locks(self) -> list[dict[str, Any]]:
        """The locks seen during the current migration; relations the migration created
        (invisible to this connection until it committed) are named now if they exist."""
        with self._mutex:
            entries = list(self._locks.values())
            oids = [int(e["relation"][4:]) for e in entries if e["relation"].startswith("oid ")]
            names: dict[int, str] = {}
            if oids and not self._conn.closed:
                try:
                    rows = self._conn.execute(
                        "SELECT c.oid, n.nspname || '.' || c.relname FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY(%s)",
                        [oids],
                    ).fetchall()
                    names = {int(oid): name for oid, name in rows}
                except psycopg.Error:
                    names = {}
            for e in entries:
                if e["relation"].startswith("oid ") and int(e["relation"][4:]) in names:
                    e["relation"] = names[int(e["relation"][4:])]
                    e["created_here"] = True
            return sorted(entries, key=lambda e: (e["relation"], e["mode"]))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._mutex:
            self._conn.close()


# Applying migrations -----------------------------------------------------------


@dataclass
class MigrationOutcome:
    migration: Migration
    ok: bool
    duration_ms: float
    statements: list[dict[str, Any]] = field(default_factory=list)
    locks: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    size_before: int | None = None
    size_after: int | None = None

    @property
    def key(self) -> str:
        return f"{self.migration.app_label}.{self.migration.name}"


class _StatementRecorder:
    def __init__(self, connection: BaseDatabaseWrapper, sampler: LockSampler) -> None:
        self.connection = connection
        self.sampler = sampler
        self.statements: list[dict[str, Any]] = []
        self.started = time.perf_counter()

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        rows: int | None = None
        try:
            result = execute(sql, params, many, context)
            # Rows an INSERT/UPDATE/DELETE changed; -1 (DDL, SELECT…) is "not a count".
            cursor = context.get("cursor") if isinstance(context, dict) else None
            count = getattr(cursor, "rowcount", -1)
            rows = count if isinstance(count, int) and count >= 0 and _changes_rows(sql) else None
            return result
        finally:
            ms = (time.perf_counter() - started) * 1000
            text = sql
            if params and not many:
                try:
                    text = self.connection.ops.compose_sql(sql, params)  # type: ignore[attr-defined]
                except Exception:
                    text = f"{sql} -- params: {params!r}"
            self.statements.append(
                {
                    "sql": text,
                    "ms": round(ms, 3),
                    "at_ms": round((started - self.started) * 1000, 3),
                    "rows": rows,
                }
            )
            self.sampler.sample()


def _changes_rows(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in {"INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "COPY"}


class Rehearsal:
    """Applies migrations one by one on a copy's Django connection."""

    def __init__(self, connection: BaseDatabaseWrapper, source_alias: str) -> None:
        self.connection = connection
        self.executor = MigrationExecutor(connection)
        self.loader = self.executor.loader
        self.source_alias = source_alias
        applied = [
            k for k in (self.loader.applied_migrations or {}) if k in self.loader.graph.nodes
        ]
        self.state = (
            self.loader.project_state(applied, at_end=True)
            if applied
            else ProjectState(real_apps=self.loader.unmigrated_apps)
        )

    def backend_pid(self) -> int:
        self.connection.ensure_connection()
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    def database_size(self) -> int | None:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_database_size(current_database())")
                return int(cursor.fetchone()[0])
        except Exception:  # a failed transaction; the size is a nicety
            return None

    def apply(self, plan: list[Migration]) -> Iterable[MigrationOutcome]:
        """Yield one outcome per migration; stop after the first failure."""
        dbname = self.connection.settings_dict["NAME"]
        sampler = LockSampler(self.source_alias, dbname, self.backend_pid())
        try:
            for migration in plan:
                size_before = self.database_size()
                sampler.start_migration()
                recorder = _StatementRecorder(self.connection, sampler)
                started = recorder.started = time.perf_counter()
                error = ""
                try:
                    with self.connection.execute_wrapper(recorder):
                        self.state.apps  # noqa: B018  (render once, as Django's executor does)
                        self.state = self.executor.apply_migration(self.state, migration)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {str(exc).strip()}"
                duration = (time.perf_counter() - started) * 1000
                sampler.sample()
                outcome = MigrationOutcome(
                    migration=migration,
                    ok=not error,
                    duration_ms=duration,
                    statements=recorder.statements,
                    locks=sampler.locks(),
                    error=error,
                    size_before=size_before,
                    size_after=None if error else self.database_size(),
                )
                yield outcome
                if error:
                    return
        finally:
            sampler.close()
