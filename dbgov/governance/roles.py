"""The reviewer role: the ``dbgov.approve_finding`` permission and the DBA group."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

from dbgov.conf import dbgov_settings

__all__ = ["ensure_dba_group"]


def ensure_dba_group(using: str = "default") -> Group:
    """Create (or complete) the DBA group: approve findings and view every dbgov model.

    Idempotent; run after ``post_migrate`` and by ``manage.py dbgov roles``.
    """
    config = apps.get_app_config("dbgov")
    create_permissions(config, verbosity=0, using=using)
    group, _ = Group.objects.using(using).get_or_create(name=dbgov_settings.DBA_GROUP)
    perms = (
        Permission.objects.using(using)
        .filter(content_type__app_label="dbgov")
        .filter(
            codename__in=["approve_finding"]
            + [f"view_{m._meta.model_name}" for m in config.get_models()]
        )
    )
    group.permissions.add(*perms)
    return group
