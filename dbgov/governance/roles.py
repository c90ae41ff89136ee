"""Roles: the DBA group (decides, rehearses, sees everything) and the developer group
(sees their own tasks, plans, findings and runs; decides nothing).

What each group holds is what the pages offer: a button appears only to users whose
permissions let the server accept it.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

from dbgov.conf import dbgov_settings

__all__ = [
    "DEVELOPER_MODELS",
    "REHEARSE_PERMISSION",
    "VIEW_ALL_PERMISSION",
    "ensure_dba_group",
    "ensure_developer_group",
]

VIEW_ALL_PERMISSION = "dbgov.view_all_tasks"
REHEARSE_PERMISSION = "dbgov.rehearse_task"
# What a developer looks at: their tasks, the plans and findings of them, the decisions
# taken on them, their rehearsal runs, and the query patterns indexes are justified by.
DEVELOPER_MODELS = [
    "task",
    "plan",
    "planmigration",
    "planoperation",
    "finding",
    "approvalrequest",
    "approval",
    "explainrun",
    "queryplan",
    "migrationrehearsal",
    "querypattern",
]


def _dbgov_permissions(using: str, codenames: list[str]) -> list[Permission]:
    config = apps.get_app_config("dbgov")
    create_permissions(config, verbosity=0, using=using)
    return list(
        Permission.objects.using(using).filter(
            content_type__app_label="dbgov", codename__in=codenames
        )
    )


def ensure_dba_group(using: str = "default") -> Group:
    """Create (or complete) the DBA group: approve findings, rehearse tasks, view every
    dbgov model and every task's rows.

    Idempotent; run after ``post_migrate`` and by ``manage.py dbgov roles``.
    """
    config = apps.get_app_config("dbgov")
    codenames = ["approve_finding", "rehearse_task", "view_all_tasks"] + [
        f"view_{m._meta.model_name}" for m in config.get_models()
    ]
    group, _ = Group.objects.using(using).get_or_create(name=dbgov_settings.DBA_GROUP)
    group.permissions.add(*_dbgov_permissions(using, codenames))
    return group


def ensure_developer_group(using: str = "default") -> Group:
    """Create (or complete) the developer group: view their own tasks, plans, findings,
    decisions and runs (the admin scopes every list to tasks they own)."""
    group, _ = Group.objects.using(using).get_or_create(name=dbgov_settings.DEVELOPER_GROUP)
    group.permissions.add(*_dbgov_permissions(using, [f"view_{name}" for name in DEVELOPER_MODELS]))
    return group
