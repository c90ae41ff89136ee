"""Ignore markers of other migration linters, honoured when DBGOV["HONOUR_IGNORES"]
names the tool (for teams switching to dbgov with annotated histories).

- squawk: ``-- squawk-ignore rule-a, rule-b`` before a statement or on its line, and
  ``-- squawk-ignore-file [rules]`` anywhere in a file; squawk's rule ids are mapped to
  the dbgov rules that report the same hazard (``SQUAWK_RULES``).
- django-migration-linter: an ``IgnoreMigration()`` operation in the migration, found
  by its class (the package need not be installed).

Neither tool's markers carry a reason, so the reason recorded on each suppressed finding
names the marker and the setting that honoured it. Analysis failures (render-failed,
sql-parse-error) are never suppressed by a whole-file or whole-migration marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SQUAWK = "squawk"
MIGRATION_LINTER = "django-migration-linter"
KNOWN_TOOLS = (SQUAWK, MIGRATION_LINTER)

# Suppresses every rule (except analysis failures) of a file or migration.
EVERY_RULE = "*"

# squawk rule id → the dbgov rule ids reporting the same hazard (squawk 2.x rule list).
SQUAWK_RULES: Mapping[str, tuple[str, ...]] = {
    "adding-field-with-default": ("add-column-volatile-default",),
    "adding-foreign-key-constraint": ("add-foreign-key-validated",),
    "adding-not-nullable-field": ("set-not-null",),
    "adding-required-field": ("add-column-not-null-no-default",),
    "adding-serial-primary-key-field": ("add-primary-key-without-index", "add-unique-constraint"),
    "ban-alter-domain-with-add-constraint": ("domain-with-constraint",),
    "ban-char-field": ("prefer-text-over-char",),
    "ban-concurrent-index-creation-in-transaction": ("concurrently-in-transaction",),
    "ban-create-domain-with-constraint": ("domain-with-constraint",),
    "ban-drop-column": ("drop-column",),
    "ban-drop-database": ("drop-schema-or-database",),
    "ban-drop-schema": ("drop-schema-or-database",),
    "ban-drop-not-null": ("drop-not-null",),
    "ban-drop-table": ("drop-table",),
    "ban-truncate-cascade": ("truncate",),
    "ban-drop-view": ("drop-object",),
    "ban-drop-function": ("drop-object",),
    "ban-drop-type": ("drop-object",),
    "ban-drop-sequence": ("drop-object",),
    "ban-drop-domain": ("drop-object",),
    "ban-drop-extension": ("drop-object",),
    "ban-drop-index": ("drop-index-not-concurrently",),
    "ban-uncommitted-transaction": ("uncommitted-begin",),
    "ban-duplicate-column-assignments": ("duplicate-column",),
    "changing-column-type": ("alter-column-type",),
    "constraint-missing-not-valid": ("add-check-validated", "add-foreign-key-validated"),
    "disallowed-unique-constraint": ("add-unique-constraint",),
    "identifier-too-long": ("identifier-too-long",),
    "prefer-big-int": ("prefer-bigint-keys",),
    "prefer-bigint-over-int": ("prefer-bigint-keys",),
    "prefer-bigint-over-smallint": ("prefer-bigint-keys",),
    "prefer-identity": ("prefer-identity",),
    "prefer-robust-stmts": ("prefer-if-exists",),
    "prefer-text-field": ("prefer-text",),
    "prefer-timestamp-tz": ("prefer-timestamptz",),
    "prefer-timestamptz": ("prefer-timestamptz",),
    "renaming-column": ("rename",),
    "renaming-table": ("rename",),
    "renaming-object": ("rename-object",),
    "require-concurrent-index-creation": ("create-index-not-concurrently",),
    "require-concurrent-index-deletion": ("drop-index-not-concurrently",),
    "require-concurrent-reindex": ("reindex-not-concurrently",),
    "require-concurrent-partition-detach": ("detach-partition-not-concurrently",),
    "require-enum-value-ordering": ("enum-add-value",),
    "require-lock-timeout": ("lock-timeout-missing",),
    "require-statement-timeout": ("lock-timeout-missing",),
    "require-timeout-settings": ("lock-timeout-missing",),
    "transaction-nesting": ("transaction-control",),
}

_SETTING = 'DBGOV["HONOUR_IGNORES"]'

# squawk reads its markers from line and block comments; rule names are comma separated
# (anything else after them makes squawk report an unknown name, and so it does here:
# the marker then ignores nothing).
_SQUAWK_MARKER = re.compile(
    r"(?:--|/\*)[ \t]*squawk-ignore(?P<file>-file)?"
    r"(?P<rules>(?:[ \t]+[a-z0-9-]+(?:[ \t]*,[ \t]*[a-z0-9-]+)*)?)[ \t]*(?:\*/|$)",
    re.M,
)


def _squawk_markers(text: str) -> Iterable[tuple[bool, list[str]]]:
    if "squawk-ignore" not in text:
        return
    for m in _SQUAWK_MARKER.finditer(text):
        rules = [r.strip() for r in m["rules"].split(",") if r.strip()]
        yield bool(m["file"]), rules


def _mapped(squawk_ids: Iterable[str], marker: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for squawk_id in squawk_ids:
        for rule_id in SQUAWK_RULES.get(squawk_id, ()):
            found.setdefault(
                rule_id, f"`-- {marker} {squawk_id}` (squawk marker honoured by {_SETTING})"
            )
    return found


def squawk_statement_ignores(comments: str) -> dict[str, str]:
    """{dbgov rule id: reason} of the ``-- squawk-ignore rules`` markers in the comments
    written before a statement or on its line."""
    found: dict[str, str] = {}
    for file_level, rules in _squawk_markers(comments):
        if not file_level:
            found.update(_mapped(rules, "squawk-ignore"))
    return found


def squawk_file_ignores(text: str) -> dict[str, str]:
    """{dbgov rule id or EVERY_RULE: reason} of the ``-- squawk-ignore-file`` markers."""
    found: dict[str, str] = {}
    for file_level, rules in _squawk_markers(text):
        if not file_level:
            continue
        if not rules:
            found[EVERY_RULE] = f"`-- squawk-ignore-file` (squawk marker honoured by {_SETTING})"
        found.update(_mapped(rules, "squawk-ignore-file"))
    return found


def declares_ignore_migration(operations: Iterable[Any]) -> bool:
    """Whether a migration holds django-migration-linter's ``IgnoreMigration()``
    (recognised by its class, without importing the package)."""
    return any(
        type(op).__name__ == "IgnoreMigration"
        and type(op).__module__.split(".")[0] == "django_migration_linter"
        for op in operations
    )


IGNORE_MIGRATION_REASON = (
    f"IgnoreMigration() in the migration (django-migration-linter marker honoured by {_SETTING})"
)


def honoured(settings: Mapping[str, Any]) -> frozenset[str]:
    """The tools whose markers DBGOV["HONOUR_IGNORES"] says to honour."""
    value = settings.get("HONOUR_IGNORES") or ()
    if isinstance(value, str):
        value = (value,)
    return frozenset(str(v) for v in value if v in KNOWN_TOOLS)
