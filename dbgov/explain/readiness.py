"""Is rehearsal configured? One answer for ``dbgov explain``, the Rehearse buttons and W002.

A rehearsal needs three things of the project: a staging alias in ``DATABASES``
(``DBGOV["STAGING_DATABASE"]``), dbgov's ``rehearsal`` extra (Celery, Redis) and a Celery
app of its own (Django's task class, so runs are queued on commit). A project that asked
for none of it — no staging alias, no explicit ``STAGING_DATABASE`` — has rehearsal *off*:
no warning, no buttons, and ``explain`` says what to configure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from ..conf import dbgov_settings
from ..extras import missing_module

__all__ = ["Readiness", "RehearsalNotConfigured", "rehearsal_readiness", "require_rehearsal"]

GUIDE = "see docs/adopting.md, 'Rehearsals'"


class RehearsalNotConfigured(Exception):
    """Rehearsal was asked for but the project lacks what it needs (the message says what)."""


@dataclass(frozen=True)
class Readiness:
    configured: bool  # the project asked for rehearsals (a staging alias, or the setting)
    problem: str | None  # what is missing, None when a rehearsal can be queued

    @property
    def ready(self) -> bool:
        return self.problem is None


def _celery_problem() -> str | None:
    module = missing_module("rehearsal")
    if module is not None:
        return f'rehearsals need the {module!r} package: pip install "dbgov[rehearsal]"'
    import celery._state
    from celery import current_app

    from dbgov.tasks import rehearse

    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    fallback = getattr(celery._state, "default_app", None)  # Celery's app when none is made
    if fallback is not None and app is fallback and fallback.main == "default":
        return (
            "no Celery app is configured: create one in your project (a celery.py with "
            "app.config_from_object('django.conf:settings', namespace='CELERY'), imported by "
            f"the project package's __init__.py) and run a worker on the rehearsal queue; {GUIDE}"
        )
    if not hasattr(rehearse, "apply_async_on_commit"):
        return (
            f"the Celery app {app.main!r} does not use Celery's Django task class: configure it "
            f"from Django's settings (app.config_from_object('django.conf:settings', "
            f"namespace='CELERY'), Celery >= 5.4); {GUIDE}"
        )
    return None


def rehearsal_readiness() -> Readiness:
    alias = dbgov_settings.STAGING_DATABASE
    user = getattr(settings, "DBGOV", {})
    explicit = isinstance(user, dict) and "STAGING_DATABASE" in user
    has_alias = alias in settings.DATABASES
    if not has_alias:
        return Readiness(
            configured=explicit,
            problem=(
                f"no staging database: add DATABASES[{alias!r}] (a database with production-like "
                f"data that rehearsals copy) or set DBGOV['STAGING_DATABASE'] to its alias; {GUIDE}"
            ),
        )
    return Readiness(configured=True, problem=_celery_problem())


def require_rehearsal() -> None:
    """Raise RehearsalNotConfigured naming what to configure, unless rehearsal is ready."""
    readiness = rehearsal_readiness()
    if readiness.problem is not None:
        raise RehearsalNotConfigured(readiness.problem)
