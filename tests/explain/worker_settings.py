"""Settings of the Celery worker the explain tests start (the demo project's, plus a
test-only app with a failing migration and short limits). The test databases come in
through DATABASE_URL / STAGING_DATABASE_URL like any deployment's."""

from project.settings import *  # noqa: F403
from project.settings import DBGOV, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rehearsal_app"]

DBGOV = {
    **DBGOV,
    "REHEARSAL_MAX_RETRIES": 1,
    "REHEARSAL_RETRY_BACKOFF_S": 1,
    "EXPLAIN_STATEMENT_TIMEOUT_MS": 2_000,
}
