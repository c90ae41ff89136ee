"""The dbgov demo project: a small shop whose migration history exercises dbgov."""

from .celery import app as celery_app

__all__ = ["celery_app"]
