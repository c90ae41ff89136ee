from __future__ import annotations

from django.apps import AppConfig


class DbgovConfig(AppConfig):
    name = "dbgov"
    verbose_name = "Migration governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers checks and receivers)
