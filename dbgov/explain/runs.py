"""Rehearsal runs: enqueue, execute (in the worker), reap what dead workers left.

``execute_run`` is what the Celery task calls. It is idempotent per run id: a
session-level advisory lock on the default database (held by the executing worker's
own connection) tells a live attempt from a dead one, so a redelivered message either
finds the run finished (nothing to do), held by a live worker (nothing to do), or
abandoned by a dead worker (drop its copy and run again).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connections, transaction
from django.utils import timezone

from dbgov.conf import dbgov_settings
from dbgov.explain.throughput import annotate_and_record, statistics_of
from dbgov.models import ExplainRun, MigrationRehearsal, QueryPlan, Task

from .compare import compare
from .copy import (
    CopyError,
    StagingBusy,
    StagingUnreachable,
    create_copy,
    drop_copy,
    ensure_staging,
    reap_copies,
    register_copy_alias,
)
from .explain import ExplainResult, run_explain
from .patterns import Query, all_patterns
from .rehearse import Rehearsal, migration_tables, pending_plan, relevant_patterns, task_of

__all__ = [
    "BrokerUnavailable",
    "RehearsalError",
    "TransientError",
    "enqueue_rehearsal",
    "execute_run",
    "reap",
    "task_migration_files",
]

logger = logging.getLogger("dbgov.explain")

# pg_try_advisory_lock(int4, int4): a namespace for dbgov runs, then the run id.
LOCK_NAMESPACE = 0x64626776  # "dbgv"

TransientError = (StagingBusy, StagingUnreachable)


class RehearsalError(Exception):
    """The rehearsal failed for a reason to show on the run (not retried)."""


class BrokerUnavailable(Exception):
    """The run could not be queued: the Celery broker is unreachable."""


# Enqueueing ---------------------------------------------------------------------


def task_migration_files(task_key: str) -> list[str]:
    """Migrations on disk that name ``task_key`` (no database needed)."""
    from dbgov.analysis.graph import load_graph  # a broken file or graph: one clear error

    loader = load_graph(None)
    return sorted(
        f"{app}.{name}"
        for (app, name), m in loader.disk_migrations.items()
        if task_of(m) == task_key
    )


def enqueue_rehearsal(
    task: Task, *, requested_by: str = "", alias: str | None = None
) -> ExplainRun:
    """Create a queued run and send it to the rehearsal queue once committed.

    If the broker cannot be reached the run is deleted again (nothing is left
    queued that no worker will ever see) and BrokerUnavailable is raised.
    """
    from dbgov.explain.readiness import require_rehearsal

    require_rehearsal()  # staging alias, the rehearsal extra, a Celery app: else say what
    from dbgov.tasks import rehearse

    alias = ensure_staging(alias or dbgov_settings.STAGING_DATABASE)
    run: ExplainRun | None = None
    try:
        with transaction.atomic():
            run = ExplainRun.objects.create(
                task=task, database_alias=alias, requested_by=requested_by, step="queued"
            )
            # DjangoTask.apply_async_on_commit: delay_on_commit with a task id and routing.
            rehearse.apply_async_on_commit(  # type: ignore[attr-defined]
                (run.pk,),
                task_id=f"dbgov-rehearsal-{run.pk}",
                **rehearse_options(),
            )
    except Exception as exc:
        if run is None or run.pk is None or not _is_broker_error(exc):
            raise
        ExplainRun.objects.filter(pk=run.pk).delete()
        from django.conf import settings

        broker = getattr(settings, "CELERY_BROKER_URL", None) or "the configured broker"
        raise BrokerUnavailable(
            f"Cannot queue the rehearsal of {task.key}: the Celery broker {broker} is "
            f"unreachable ({exc}). Nothing was queued; start the broker and try again."
        ) from exc
    run.refresh_from_db()
    return run


def _is_broker_error(exc: BaseException) -> bool:
    import kombu.exceptions

    return isinstance(exc, kombu.exceptions.OperationalError | ConnectionError | OSError)


def rehearse_options() -> dict[str, Any]:
    """Routing and limits of the rehearsal task, read from settings at call time."""
    return {
        "queue": dbgov_settings.REHEARSAL_QUEUE,
        "soft_time_limit": dbgov_settings.REHEARSAL_SOFT_TIME_LIMIT_S,
        "time_limit": dbgov_settings.REHEARSAL_TIME_LIMIT_S,
    }


# The run lock -------------------------------------------------------------------


def _default_raw_connection() -> psycopg.Connection[Any]:
    params = dict(connections["default"].get_connection_params())
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.connect(**params, autocommit=True)


@contextlib.contextmanager
def run_lock(run_id: int) -> Iterator[bool]:
    """Hold the run's advisory lock on a dedicated connection; yield whether we got it."""
    conn = _default_raw_connection()
    try:
        got = conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, run_id]
        ).fetchone()
        acquired = bool(got and got[0])
        try:
            yield acquired
        finally:
            if acquired and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, run_id])
    finally:
        conn.close()


def _lock_is_free(conn: psycopg.Connection[Any], run_id: int) -> bool:
    """Whether no session holds the run's lock (read from pg_locks: never takes it)."""
    row = conn.execute(
        "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = %s AND objid = %s AND objsubid = 2",
        [LOCK_NAMESPACE, run_id],
    ).fetchone()
    return row is None


# Executing ----------------------------------------------------------------------


def _set(run: ExplainRun, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))


def _elapsed_ms(run: ExplainRun) -> float | None:
    if run.started_at is None:
        return None
    return (timezone.now() - run.started_at).total_seconds() * 1000


def _drop_copies_of(run_id: int) -> None:
    """Drop what a lost attempt left: copies whose owning process is gone."""
    reap_copies(dbgov_settings.STAGING_DATABASE)


def execute_run(
    run_id: int, *, worker: str = "", celery_task_id: str = "", final_attempt: bool = True
) -> str:
    """Rehearse run ``run_id``; returns its final status (or why nothing was done).

    Transient failures (staging busy or unreachable) re-raise after being recorded
    when ``final_attempt`` is False, so that the caller can retry with backoff.
    """
    with run_lock(run_id) as acquired:
        if not acquired:
            return "running-elsewhere"
        run = ExplainRun.objects.select_related("task").filter(pk=run_id).first()
        if run is None:
            return "missing"
        if run.is_terminal:
            return run.status
        alias = run.database_alias
        if run.status == ExplainRun.Status.RUNNING:
            # The previous attempt's worker died (it no longer holds the lock).
            logger.warning("run %s: previous attempt was lost; starting over", run_id)
            with contextlib.suppress(CopyError):
                _drop_copies_of(run_id)
        # A new attempt starts from scratch (a lost or retried one may have stored some).
        run.query_plans.all().delete()
        run.migrations.all().delete()
        _set(
            run,
            status=ExplainRun.Status.RUNNING,
            attempts=run.attempts + 1,
            started_at=timezone.now(),
            finished_at=None,
            worker=worker,
            celery_task_id=celery_task_id or run.celery_task_id,
            error="",
            step="copying staging",
        )
        copy = None
        failure = ""
        transient: BaseException | None = None
        summary: dict[str, Any] = {}
        try:
            copy = create_copy(run.pk, alias)
            _set(run, copy_name=copy.name, copy_ms=copy.seconds * 1000)
            summary = _rehearse(run, register_copy_alias(copy).alias, alias)
        except TransientError as exc:
            transient = exc
        except Exception as exc:
            failure = _message(exc)
        finally:
            # Drop the copy before the run says it ended: a finished run has no copy.
            if copy is not None:
                _set(run, step="dropping the copy")
                try:
                    drop_copy(alias, copy.name)
                except Exception as exc:  # the reaper will get it
                    logger.error("run %s: could not drop copy %s: %s", run_id, copy.name, exc)
        if transient is not None:
            if final_attempt:
                _fail(run, str(transient))
            else:
                _set(
                    run,
                    status=ExplainRun.Status.QUEUED,
                    step="waiting to retry",
                    error=f"attempt {run.attempts}: {transient}",
                )
                raise transient
        elif failure:
            _fail(run, failure)
        else:
            _set(run, **summary, finished_at=timezone.now(), duration_ms=_elapsed_ms(run))
        return run.status


def _message(exc: BaseException) -> str:
    if isinstance(exc, RehearsalError | CopyError):
        return str(exc)
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, SoftTimeLimitExceeded):
        limit = dbgov_settings.REHEARSAL_SOFT_TIME_LIMIT_S
        return f"The rehearsal exceeded its time limit ({limit} s, DBGOV['REHEARSAL_SOFT_TIME_LIMIT_S'])."
    return f"{type(exc).__name__}: {str(exc).strip()}"


def _fail(run: ExplainRun, message: str) -> None:
    _set(
        run,
        status=ExplainRun.Status.FAILED,
        error=message,
        step="failed",
        finished_at=timezone.now(),
        duration_ms=_elapsed_ms(run),
    )


def _store_plan(run: ExplainRun, query: Query, phase: str, result: ExplainResult) -> QueryPlan:
    return QueryPlan.objects.create(
        run=run,
        pattern_name=query.name,
        sql=query.sql,
        params=dict(query.params),
        phase=phase,
        status=QueryPlan.Status.OK if result.ok else QueryPlan.Status.FAILED,
        error=result.error,
        plan=result.plan,
        planning_ms=result.planning_ms,
        execution_ms=result.execution_ms,
        top_node=result.top_node,
        access_path=result.access_path,
        indexes_used=result.indexes_used,
        seq_scans=result.seq_scans,
        estimated_rows=result.estimated_rows,
        actual_rows=result.actual_rows,
        shared_hit_blocks=result.shared_hit_blocks,
        shared_read_blocks=result.shared_read_blocks,
        over_budget=result.over_budget,
        repetitions=[r.as_dict() for r in result.repetitions],
    )


def _explain_all(
    run: ExplainRun, copy_alias: str, phase: str, patterns: list[Query], missing: list[str]
) -> dict[str, ExplainResult]:
    results: dict[str, ExplainResult] = {}
    for query in patterns:
        _set(run, step=f"EXPLAIN {phase}: {query.name}")
        result = run_explain(copy_alias, query)
        _store_plan(run, query, phase, result)
        results[query.name] = result
    for name in missing:
        result = ExplainResult(
            ok=False,
            error=f"A migration names query pattern {name!r} in dbgov_index_purpose, but no "
            f"such pattern is declared (dbgov_queries.py or the admin).",
        )
        _store_plan(run, Query(name, ""), phase, result)
        results[name] = result
    return results


def _table_rows(connection: Any, tables: set[str]) -> dict[str, int]:
    """Estimated rows of ``tables`` on the copy (pg_class.reltuples, fresh after ANALYZE)."""
    if not tables:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples::bigint FROM pg_class c"
            " WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p', 'm')"
            " AND pg_table_is_visible(c.oid)",
            [sorted(tables)],
        )
        return {name: max(int(n), 0) for name, n in cursor.fetchall()}


def _rehearse(run: ExplainRun, copy_alias: str, staging_alias: str) -> dict[str, Any]:
    """Rehearse on the copy; returns the run's closing fields (raises on failure)."""
    connection = connections[copy_alias]
    rehearsal = Rehearsal(connection, staging_alias)
    plan = pending_plan(rehearsal.loader, run.task.key)
    if not plan:
        raise RehearsalError(
            f"Nothing to rehearse: no pending migration of the staging database "
            f"(alias {staging_alias!r}) names task {run.task.key} (dbgov_task)."
        )
    _set(run, migration_keys=[f"{m.app_label}.{m.name}" for m in plan])
    tables: set[str] = set()
    for migration in plan:
        tables |= migration_tables(rehearsal.loader, migration)
    patterns, missing = relevant_patterns(all_patterns(), plan, tables)

    if dbgov_settings.ANALYZE_COPY:
        _set(run, step="ANALYZE copy")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    _set(run, table_rows=_table_rows(connection, set().union(*(q.tables for q in patterns))))
    before = _explain_all(run, copy_alias, QueryPlan.Phase.BEFORE, patterns, missing)

    statistics = statistics_of(connection)  # sizes before each migration: its work
    for order, outcome in enumerate(rehearsal.apply(plan), start=1):
        _set(run, step=f"migrated {outcome.key}")
        if outcome.ok:
            annotate_and_record(outcome.statements, statistics)
            statistics = statistics_of(connection)
        MigrationRehearsal.objects.create(
            run=run,
            order=order,
            app_label=outcome.migration.app_label,
            name=outcome.migration.name,
            task_key=task_of(outcome.migration),
            status=MigrationRehearsal.Status.OK if outcome.ok else MigrationRehearsal.Status.FAILED,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
            statements=outcome.statements,
            locks=outcome.locks,
            size_before=outcome.size_before,
            size_after=outcome.size_after,
        )
        if not outcome.ok:
            raise RehearsalError(f"Migration {outcome.key} failed on the copy: {outcome.error}")

    after = _explain_all(run, copy_alias, QueryPlan.Phase.AFTER, patterns, missing)

    _set(run, step="comparing")
    regressions = over_budget = 0
    failed = {name for name, r in (before | after).items() if not r.ok}
    for name, result_after in after.items():
        cmp = compare(before[name], result_after)
        regressions += cmp.regression
        over_budget += cmp.over_budget
        QueryPlan.objects.filter(run=run, pattern_name=name, phase=QueryPlan.Phase.AFTER).update(
            regression=cmp.regression, verdict=cmp.verdict
        )
    return {
        "status": ExplainRun.Status.SUCCEEDED,
        "step": "done",
        "regressions": regressions,
        "over_budget": over_budget,
        "failed_queries": len(failed),
    }


# The reaper ---------------------------------------------------------------------


@dataclass
class ReapReport:
    dropped: list[str]
    failed_runs: list[int]


def reap() -> ReapReport:
    """Drop orphaned copies and fail runs whose worker died.

    - a run marked running whose advisory lock is free lost its worker: it is marked
      failed (a redelivered message then finds it finished);
    - a copy is dropped when the process that made it is gone (it no longer holds the
      copy's owner lock: see dbgov.sandbox.disposable), whatever installation made it;
      a live worker's copy is never dropped, however old.
    """
    alias = ensure_staging(dbgov_settings.STAGING_DATABASE)
    failed: list[int] = []
    conn = _default_raw_connection()
    try:
        for run in ExplainRun.objects.filter(status=ExplainRun.Status.RUNNING):
            if _lock_is_free(conn, run.pk):
                _fail(
                    run,
                    f"The worker running this rehearsal ({run.worker or 'unknown'}) was lost "
                    f"during step {run.step!r}; its copy was dropped by the reaper.",
                )
                failed.append(run.pk)
    finally:
        conn.close()
    dropped = reap_copies(alias)
    return ReapReport(dropped=dropped, failed_runs=failed)


def wait_for(run_id: int, *, timeout_s: float, poll_s: float = 0.5) -> Iterator[ExplainRun]:
    """Yield the run whenever its status or step changes, until it ends or time runs out."""
    deadline = time.monotonic() + timeout_s
    last: tuple[str, str] | None = None
    while True:
        run = ExplainRun.objects.select_related("task").get(pk=run_id)
        if (run.status, run.step) != last:
            last = (run.status, run.step)
            yield run
        if run.is_terminal or time.monotonic() > deadline:
            return
        time.sleep(poll_s)
