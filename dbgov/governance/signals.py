"""Receivers of the governance area (imported by dbgov.signals)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from dbgov.models import Ledger

# Set while dbgov's migrate runs: its executor callback records the ledger (every app,
# with or without models), so post_migrate does not record it a second time.
ledger_by_executor: ContextVar[bool] = ContextVar("dbgov_ledger_by_executor", default=False)


@receiver(post_migrate, dispatch_uid="dbgov.governance.ledger")
def record_applied_migrations(
    sender: AppConfig, *, using: str = "default", plan: Any = None, **kwargs: Any
) -> None:
    """Append the sha256 of every migration file this ``migrate`` run (un)applied.

    post_migrate is sent once per app with the whole plan; each call records the
    migrations of its own app, so every migration is recorded exactly once.
    """
    from .ledger import table_exists

    if not plan or not table_exists(Ledger, using):
        return
    from .services import record_ledger, refresh_task_statuses

    if not ledger_by_executor.get():  # migrate called around dbgov's command
        record_ledger(plan, using=using, app_label=sender.label)
    if sender.label == "dbgov" and using == "default":
        from dbgov.models import Task

        refresh_task_statuses(Task.objects.values_list("key", flat=True))


@receiver(post_migrate, dispatch_uid="dbgov.governance.dba_group")
def create_dba_group(sender: AppConfig, *, using: str = "default", **kwargs: Any) -> None:
    """The DBA and developer groups exist once dbgov's tables and permissions do."""
    from .ledger import table_exists

    if sender.label != "dbgov" or not table_exists(Ledger, using):
        return
    from .roles import ensure_dba_group, ensure_developer_group

    ensure_dba_group(using)
    ensure_developer_group(using)
