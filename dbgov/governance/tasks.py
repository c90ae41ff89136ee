"""Task statuses: draft, in review, approved, applied, recomputed from plans and decisions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import connections

from dbgov.models import (
    ApprovalRequest,
    PlanMigration,
    Task,
)


def refresh_task_statuses(
    keys: Iterable[str], *, on_disk: dict[str, set[tuple[str, str]]] | None = None
) -> None:
    """Recompute draft / in review / approved / applied for these tasks.

    ``on_disk`` adds the migration files naming each task (the admin passes them, so
    that a task no stored plan covers yet is not "draft" while its files are applied).
    """
    keys = {k for k in keys if k}
    if not keys:
        return
    from django.db.migrations.recorder import MigrationRecorder

    latest = (
        PlanMigration.objects.filter(task_key__in=keys)
        .order_by("app_label", "name", "-plan_id")
        .distinct("app_label", "name")
        .values_list("task_key", "app_label", "name")
    )
    migrations: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for key, app, name in latest:
        migrations[key].add((app, name))
    for key, found in (on_disk or {}).items():
        migrations[key] |= found
    recorder = MigrationRecorder(connections["default"])
    applied = set(recorder.applied_migrations()) if recorder.has_table() else set()
    pending_review = set(
        ApprovalRequest.objects.filter(
            task__key__in=keys,
            status__in=[ApprovalRequest.Status.OPEN, ApprovalRequest.Status.REJECTED],
        ).values_list("task__key", flat=True)
    )
    for task in Task.objects.filter(key__in=keys):
        migs = migrations.get(task.key, set())
        if not migs:
            status = Task.Status.DRAFT
        elif migs <= applied:
            status = Task.Status.APPLIED
        elif task.key in pending_review:
            status = Task.Status.IN_REVIEW
        else:
            status = Task.Status.APPROVED
        if task.status != status:
            Task.objects.filter(pk=task.pk).update(status=status)
