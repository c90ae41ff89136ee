"""Receivers of the explain area: a starting worker reaps what dead workers left."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready

logger = logging.getLogger("dbgov.explain")


@worker_ready.connect(dispatch_uid="dbgov.explain.reap_on_worker_ready")
def reap_on_worker_ready(**kwargs: Any) -> None:
    from .runs import reap

    try:
        report = reap()
    except Exception as exc:  # never keep a worker from starting
        logger.warning("dbgov: could not reap staging copies at worker start: %s", exc)
        return
    if report.dropped or report.failed_runs:
        logger.warning(
            "dbgov: reaped copies %s; runs failed because their worker was lost: %s",
            report.dropped,
            report.failed_runs,
        )
