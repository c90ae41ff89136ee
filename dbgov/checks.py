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
def check_honour_ignores(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """dbgov.E010: HONOUR_IGNORES names tools whose ignore markers dbgov knows."""
    from .analysis.compat import KNOWN_TOOLS

    if not isinstance(getattr(settings, "DBGOV", {}), dict):
        return []  # dbgov.E001 already says it
    value = dbgov_settings.HONOUR_IGNORES
    hint = f"A list of: {', '.join(repr(t) for t in KNOWN_TOOLS)} (or [] for none)."
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return [
            Error(
                f"DBGOV['HONOUR_IGNORES'] must be a list of tool names, not {value!r}.",
                hint=hint,
                id="dbgov.E010",
            )
        ]
    return [
        Error(
            f"DBGOV['HONOUR_IGNORES'] names {tool!r}, whose ignore markers dbgov does not know.",
            hint=hint,
            id="dbgov.E010",
        )
        for tool in value
        if tool not in KNOWN_TOOLS
    ]


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


def _secret_key() -> str:
    from django.core.exceptions import ImproperlyConfigured

    try:
        return str(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses an empty SECRET_KEY on access
        return ""


@register(Tags.compatibility)
def check_integrity_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Tamper evidence and gate scope (ids dbgov.E023 … E026, docs/security.md)."""
    from django.apps import apps

    from .analysis.model import Severity

    if not isinstance(getattr(settings, "DBGOV", {}), dict):
        return []  # dbgov.E001 already says it
    messages: list[CheckMessage] = []
    keys = dbgov_settings.SIGNING_KEYS
    if keys is not None and (
        not isinstance(keys, list | tuple)
        or not keys
        or not all(isinstance(k, str | bytes) and k for k in keys)
    ):
        messages.append(
            Error(
                "DBGOV['SIGNING_KEYS'] must be None or a non-empty list of non-empty keys.",
                hint="The first key signs, every key verifies; keep them outside the database.",
                id="dbgov.E023",
            )
        )
    elif keys is not None and len(set(keys)) != len(keys):
        messages.append(Error("DBGOV['SIGNING_KEYS'] lists a key twice.", id="dbgov.E026"))
    elif keys is None and not _secret_key():
        messages.append(
            Error(
                "dbgov signs governance rows with a key derived from SECRET_KEY, which is empty.",
                hint="Set SECRET_KEY, or DBGOV['SIGNING_KEYS'].",
                id="dbgov.E023",
            )
        )
    severity = dbgov_settings.UNWAIVABLE_SEVERITY
    if severity is not None and severity not in {str(s) for s in Severity}:
        messages.append(
            Error(
                f"DBGOV['UNWAIVABLE_SEVERITY'] is {severity!r}, not a severity.",
                hint=f"One of {', '.join(str(s) for s in Severity)}, or None.",
                id="dbgov.E024",
            )
        )
    governed = dbgov_settings.GOVERNED_APPS
    if governed is not None:
        labels = {c.label for c in apps.get_app_configs()}
        if not isinstance(governed, list | tuple | set) or not all(
            isinstance(a, str) for a in governed
        ):
            messages.append(
                Error(
                    "DBGOV['GOVERNED_APPS'] must be None or a list of app labels.",
                    id="dbgov.E025",
                )
            )
        else:
            for label in sorted(set(governed) - labels):
                messages.append(
                    Error(
                        f"DBGOV['GOVERNED_APPS'] names {label!r}, which is not an installed app.",
                        hint="Use app labels (e.g. 'shop'), not dotted paths.",
                        id="dbgov.E025",
                    )
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


# Risk estimates and guarded migrate (docs/risk.md, docs/migrate.md): dbgov.E070-E079 ----


@register(Tags.compatibility)
def check_risk_and_migrate_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from .analysis.risk.regrade import DEFAULT_THRESHOLDS

    if not isinstance(getattr(settings, "DBGOV", {}), dict):
        return []  # dbgov.E001 already says it
    messages: list[CheckMessage] = []
    thresholds = dbgov_settings.RISK_THRESHOLDS
    shape = (
        "a dict {lock class: {'requires-care': ms, 'never-without-a-plan': ms}}, lock "
        f"classes {', '.join(DEFAULT_THRESHOLDS)}, requires-care <= never-without-a-plan"
    )
    if not isinstance(thresholds, dict) or set(thresholds) - set(DEFAULT_THRESHOLDS):
        messages.append(
            Error(f"DBGOV['RISK_THRESHOLDS'] is {thresholds!r}.", hint=shape, id="dbgov.E070")
        )
    else:
        for klass, given in thresholds.items():
            limits = {**DEFAULT_THRESHOLDS[klass], **(given if isinstance(given, dict) else {})}
            numbers = all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                for v in limits.values()
            )
            if (
                not isinstance(given, dict)
                or set(limits) != set(DEFAULT_THRESHOLDS[klass])
                or not numbers
                or limits["requires-care"] > limits["never-without-a-plan"]
            ):
                messages.append(
                    Error(
                        f"DBGOV['RISK_THRESHOLDS'][{klass!r}] is {given!r}.",
                        hint=shape,
                        id="dbgov.E070",
                    )
                )
    path = dbgov_settings.RISK_INPUTS
    if path:
        from django.utils.module_loading import import_string

        try:
            import_string(path)
        except ImportError as exc:
            messages.append(
                Error(
                    f"DBGOV['RISK_INPUTS'] = {path!r} cannot be imported: {exc}",
                    hint="A dotted path to a callable(server) -> RiskInputs, or None.",
                    id="dbgov.E071",
                )
            )
    for key in (
        "MIGRATE_LOCK_TIMEOUT_MS",
        "MIGRATE_STATEMENT_TIMEOUT_MS",
        "MIGRATE_RETRIES",
        "MIGRATE_BACKOFF_MS",
        "MIGRATE_MAX_BACKOFF_MS",
    ):
        value = getattr(dbgov_settings, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            messages.append(
                Error(
                    f"DBGOV[{key!r}] is {value!r}; it must be a whole number >= 0.",
                    id="dbgov.E072",
                )
            )
    jitter = dbgov_settings.MIGRATE_JITTER
    if isinstance(jitter, bool) or not isinstance(jitter, int | float) or not 0 <= jitter < 1:
        messages.append(
            Error(
                f"DBGOV['MIGRATE_JITTER'] is {jitter!r}.",
                hint="A fraction of each wait, 0 <= jitter < 1 (0.25: ±25 %).",
                id="dbgov.E073",
            )
        )
    key = dbgov_settings.MIGRATE_ADVISORY_LOCK
    if isinstance(key, bool) or not isinstance(key, int) or not -(2**63) <= key < 2**63:
        messages.append(
            Error(
                f"DBGOV['MIGRATE_ADVISORY_LOCK'] is {key!r}.",
                hint="A bigint: the key of pg_advisory_lock(bigint).",
                id="dbgov.E074",
            )
        )
    return messages


# `dbgov fix` settings: dbgov.E090-E099 ------------------------------------------------


@register(Tags.compatibility)
def check_fix_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    size = dbgov_settings.BACKFILL_BATCH_SIZE
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        return [
            Error(
                f"DBGOV['BACKFILL_BATCH_SIZE'] is {size!r}.",
                hint="A positive whole number of rows per backfill transaction, e.g. 1000.",
                id="dbgov.E090",
            )
        ]
    return []
