"""The one settings namespace: ``DBGOV = {...}`` merged over documented defaults.

Read lazily through ``dbgov_settings`` (never at import time) and cleared on
``setting_changed`` so that ``override_settings(DBGOV=...)`` works in tests.
Every key is documented in docs/settings.md.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS: dict[str, Any] = {
    # Analysis -------------------------------------------------------------
    # PostgreSQL major version to reason about when no connection is available
    # (lint, offline plans). None: read it from the connection.
    "PG_VERSION": None,
    # Rule ids to turn off, opt-in rule ids to turn on, and severity overrides.
    "DISABLED_RULES": [],
    "ENABLED_RULES": [],
    "SEVERITY_OVERRIDES": {},
    # Where the shadow databases used to render SQL are created: None means the
    # server of the target alias (the role needs CREATEDB).
    "SHADOW_DATABASE_PREFIX": "dbgov_shadow_",
    # Governance -----------------------------------------------------------
    "ENFORCE_ON_MIGRATE": False,
    "REQUIRED_APPROVALS": {"requires-care": 1, "never-without-a-plan": 2, "error": 1},
    "DBA_GROUP": "DBA",
    # Rehearsal ------------------------------------------------------------
    "STAGING_DATABASE": "staging",
    "COPY_PREFIX": "dbgov_copy_",
    "OLTP_BUDGET_MS": 100.0,
    "EXPLAIN_STATEMENT_TIMEOUT_MS": 30_000,
    "REHEARSAL_QUEUE": "dbgov.rehearsal",
    # Seeds ----------------------------------------------------------------
    "ENVIRONMENT": "dev",
    "SEED_DIRS": ["fixtures"],
    "ALLOW_PRODUCTION_SEED": False,
    # Personal data: fields listed here (besides db_comment "PII…" and EmailFields)
    # get generated values and are checked for real-looking values outside production.
    "PII_FIELDS": ["auth.User.email", "auth.User.first_name", "auth.User.last_name"],
    # Allow real-looking personal data in non-production seeds (prefer the per-file
    # allowance: a `<file>.pii-allowed` file next to the fixture, holding the reason).
    "SEED_ALLOW_REAL_PII": False,
    # Generator options by option name, over each generator's OPTIONS (the command's
    # --option and DBGOV_SEED_<NAME> environment variables override these).
    "SEED_GENERATOR_OPTIONS": {},
}


class DbgovSettings:
    """Typed, cached access to ``settings.DBGOV`` merged over ``DEFAULTS``."""

    @cached_property
    def merged(self) -> dict[str, Any]:
        user = getattr(settings, "DBGOV", {}) or {}
        unknown = set(user) - set(DEFAULTS)
        merged = {**DEFAULTS, **user}
        merged["_UNKNOWN_KEYS"] = sorted(unknown)
        return merged

    def __getattr__(self, name: str) -> Any:
        if name.isupper():
            try:
                return self.merged[name]
            except KeyError:
                raise AttributeError(f"DBGOV has no setting {name!r}") from None
        raise AttributeError(name)

    def clear(self) -> None:
        self.__dict__.pop("merged", None)


dbgov_settings = DbgovSettings()


@receiver(setting_changed)
def _clear_cache(*, setting: str, **kwargs: Any) -> None:
    if setting == "DBGOV":
        dbgov_settings.clear()
