"""What a rewrite produces: the safe steps that replace one unsafe operation.

A pattern module (add_not_null.py, index_concurrently.py, …) turns one operation of a
flagged migration into ``Step`` objects; the writer turns each step into a migration
file. Everything a pattern needs to know about the project is in ``FixContext``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

__all__ = ["FixContext", "FixError", "Rewrite", "Step", "constraint_name"]

# PostgreSQL's identifier limit (NAMEDATALEN - 1).
MAX_NAME = 63


class FixError(Exception):
    """The migration cannot be rewritten (the message says why and what to do)."""


@dataclass
class Step:
    """One migration file to write, in order."""

    suffix: str  # the file name after the original's number, e.g. "add_currency_nullable"
    operations: list[Operation]
    phase: str = "pre"
    atomic: bool = True
    # Why this step is safe, written as the file's header comment.
    comment: str = ""
    # Declared suppressions written as ``dbgov_ignore`` ({op index: {rule: reason}}).
    ignore: dict[int, dict[str, str]] = field(default_factory=dict)


@dataclass
class Rewrite:
    """A pattern's answer for one operation."""

    pattern: str  # the pattern module's name, e.g. "add_not_null"
    steps: list[Step]
    # Findings the re-plan may still show on these steps, and why that is expected.
    expected: dict[str, str] = field(default_factory=dict)
    # What the developer still does by hand (models.py edits, the later steps of a plan).
    notes: list[str] = field(default_factory=list)


@dataclass
class FixContext:
    """What the patterns read: the project state before the operation, the target."""

    app_label: str
    migration_name: str
    state: ProjectState  # before the operation (rendered on demand)
    database: str
    # ``--backfill-value``: what existing rows get when the field has no default.
    backfill_value: str | None = None

    def model(self, model_name: str) -> Any:
        return self.state.apps.get_model(self.app_label, model_name)

    @property
    def connection(self) -> Any:
        return connections[self.database]

    def quote(self, name: str) -> str:
        return str(connections[self.database].ops.quote_name(name))

    def db_type(self, field: Any) -> str:
        return str(field.db_type(connections[self.database]))


def constraint_name(table: str, column: str, suffix: str) -> str:
    """``<table>_<column>_<suffix>``, shortened with a hash to fit PostgreSQL's limit."""
    name = f"{table}_{column}_{suffix}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - len(suffix) - 10]}_{digest}_{suffix}"


def differs_only_in(old: Any, new: Any, keys: set[str]) -> bool:
    """True when two fields' deconstructions differ in ``keys`` at most (an AlterField
    a pattern rewrites must change nothing else, or the rewrite would lose it)."""
    _, old_path, old_args, old_kwargs = old.deconstruct()
    _, new_path, new_args, new_kwargs = new.deconstruct()
    for key in keys:
        old_kwargs.pop(key, None)
        new_kwargs.pop(key, None)
    return bool(old_path == new_path and old_args == new_args and old_kwargs == new_kwargs)
