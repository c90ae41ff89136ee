"""Celery tasks of dbgov (``shared_task``: they run on the project's Celery app).

Routing and limits are read from DBGOV settings when a task is sent (never at import
time): the rehearsal goes to DBGOV["REHEARSAL_QUEUE"] with its time limits. Run a
worker for it with ``celery -A <project> worker -Q dbgov.rehearsal``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from dbgov.conf import dbgov_settings

__all__ = ["reap_copies", "rehearse"]

logger = logging.getLogger("dbgov.explain")


@shared_task(bind=True, name="dbgov.rehearse", acks_late=True, ignore_result=True)
def rehearse(self: Any, run_id: int) -> str:
    """Rehearse ExplainRun ``run_id`` on a disposable copy of staging.

    Idempotent per run id (see dbgov.explain.runs.execute_run), so ``acks_late``
    redeliveries are safe. Staging busy or unreachable is retried with exponential
    backoff up to DBGOV["REHEARSAL_MAX_RETRIES"] times; the last failure is recorded
    on the run. (Explicit ``self.retry`` rather than ``autoretry_for``: the limits
    come from settings at run time, not at import time.)
    """
    from dbgov.explain.runs import TransientError, execute_run, reap, rehearse_options

    max_retries = int(dbgov_settings.REHEARSAL_MAX_RETRIES)
    # Best effort: clean up after workers that died (their runs and copies).
    with contextlib.suppress(Exception):
        reap()
    try:
        return execute_run(
            run_id,
            worker=self.request.hostname or "",
            celery_task_id=self.request.id or "",
            final_attempt=self.request.retries >= max_retries,
        )
    except TransientError as exc:
        countdown = get_exponential_backoff_interval(
            factor=int(dbgov_settings.REHEARSAL_RETRY_BACKOFF_S),
            retries=self.request.retries,
            maximum=600,
            full_jitter=False,
        )
        logger.warning("run %s: %s; retrying in %s s", run_id, exc, countdown)
        # Back to the queue the message came from (the setting may differ per process).
        queue = (self.request.delivery_info or {}).get("routing_key") or rehearse_options()["queue"]
        raise self.retry(
            exc=exc, countdown=countdown, max_retries=max_retries, queue=queue
        ) from exc


@shared_task(name="dbgov.reap_copies", ignore_result=True)
def reap_copies() -> dict[str, list[Any]]:
    """Drop orphaned staging copies and fail runs whose worker died (for celery beat)."""
    from dbgov.explain.runs import reap

    report = reap()
    return {"dropped": report.dropped, "failed_runs": report.failed_runs}
