"""System checks (ids dbgov.E0xx / dbgov.W0xx, listed in docs/checks.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .conf import DEFAULTS, dbgov_settings


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    user = getattr(settings, "DBGOV", {})
    if not isinstance(user, dict):
        return [
            Error("DBGOV must be a dict.", hint="Set DBGOV = {...} in settings.", id="dbgov.E001")
        ]
    for key in dbgov_settings._UNKNOWN_KEYS:
        messages.append(
            Warning(
                f"DBGOV[{key!r}] is not a dbgov setting and is ignored.",
                hint=f"Known settings: {', '.join(sorted(DEFAULTS))}.",
                id="dbgov.W001",
            )
        )
    from .explain.readiness import rehearsal_readiness

    # Only a project that asked for rehearsals (a staging alias, or the setting) hears
    # that they cannot run; without one, rehearsal is simply off.
    readiness = rehearsal_readiness()
    if readiness.configured and readiness.problem is not None:
        messages.append(
            Warning(
                f"Rehearsals are configured but cannot run: {readiness.problem}.",
                hint="Fix what the message names, or remove DBGOV['STAGING_DATABASE'] "
                "and the staging alias to turn rehearsals off.",
                id="dbgov.W002",
            )
        )
    return messages


@register(Tags.compatibility)
def check_governance_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """REQUIRED_APPROVALS maps severities to counts; DBA_GROUP names a group."""
    from .analysis.model import Severity

    if not isinstance(getattr(settings, "DBGOV", {}), dict):
        return []  # dbgov.E001 already says it
    messages: list[CheckMessage] = []
    required = dbgov_settings.REQUIRED_APPROVALS
    known = {str(s) for s in Severity}
    if not isinstance(required, dict):
        return [
            Error(
                "DBGOV['REQUIRED_APPROVALS'] must be a dict {severity: number of approvals}.",
                hint=f"Severities: {', '.join(sorted(known))}.",
                id="dbgov.E020",
            )
        ]
    for severity, count in required.items():
        if severity not in known:
            messages.append(
                Error(
                    f"DBGOV['REQUIRED_APPROVALS'] names an unknown severity {severity!r}.",
                    hint=f"Severities: {', '.join(sorted(known))}.",
                    id="dbgov.E020",
                )
            )
        elif not isinstance(count, int) or isinstance(count, bool) or count < 0:
            messages.append(
                Error(
                    f"DBGOV['REQUIRED_APPROVALS'][{severity!r}] must be a whole number >= 0, "
                    f"not {count!r}.",
                    id="dbgov.E021",
                )
            )
    group = dbgov_settings.DBA_GROUP
    if not isinstance(group, str) or not group.strip():
        messages.append(
            Error("DBGOV['DBA_GROUP'] must name a group.", hint='e.g. "DBA"', id="dbgov.E022")
        )
    return messages


@register(Tags.compatibility)
def check_seed_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Seeds (ids dbgov.E060 …): the seed folders and the PII field list."""
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist

    messages: list[CheckMessage] = []
    dirs = dbgov_settings.SEED_DIRS
    if not isinstance(dirs, list | tuple) or not all(isinstance(d, str) for d in dirs):
        messages.append(
            Error(
                "DBGOV['SEED_DIRS'] must be a list of folder paths.",
                hint='For example ["fixtures"] (relative to BASE_DIR) or absolute paths.',
                id="dbgov.E060",
            )
        )
    for entry in dbgov_settings.PII_FIELDS:
        label, _, name = str(entry).rpartition(".")
        try:
            apps.get_model(label)._meta.get_field(name)
        except (LookupError, ValueError, FieldDoesNotExist):
            messages.append(
                Warning(
                    f"DBGOV['PII_FIELDS'] names {entry!r}, which is not a model field.",
                    hint='Entries are "app_label.Model.field", e.g. "auth.User.email".',
                    id="dbgov.W061",
                )
            )
    return messages


# Rehearsal settings (explain area): dbgov.E050-E059 -------------------------------

_COPY_PREFIX_RE = r"^[a-z_][a-z0-9_]{0,29}$"


@register(Tags.compatibility)
def check_rehearsal_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    import re

    messages: list[CheckMessage] = []
    strategy = dbgov_settings.COPY_STRATEGY
    if strategy is not None and str(strategy).upper() not in {"WAL_LOG", "FILE_COPY"}:
        messages.append(
            Error(
                f"DBGOV['COPY_STRATEGY'] is {strategy!r}.",
                hint="Use None (the server's default), 'WAL_LOG' or 'FILE_COPY'.",
                id="dbgov.E050",
            )
        )
    prefix = dbgov_settings.COPY_PREFIX
    if not isinstance(prefix, str) or not re.match(_COPY_PREFIX_RE, prefix):
        messages.append(
            Error(
                f"DBGOV['COPY_PREFIX'] is {prefix!r}.",
                hint="Lower-case letters, digits and underscores, at most 30 characters "
                "(copy names must fit PostgreSQL's 63).",
                id="dbgov.E051",
            )
        )
    for key in (
        "OLTP_BUDGET_MS",
        "EXPLAIN_STATEMENT_TIMEOUT_MS",
        "STATEMENT_BUDGET_MS",
        "REGRESSION_MIN_BLOCKS",
    ):
        value = getattr(dbgov_settings, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            messages.append(
                Error(
                    f"DBGOV[{key!r}] is {value!r}; it must be a positive number.",
                    id="dbgov.E052",
                )
            )
    return messages
