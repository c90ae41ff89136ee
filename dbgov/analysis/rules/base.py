"""The rule framework: what a rule is, what it sees, and what it returns.

Each rule lives in its own module, ``rules/<category>/<id with underscores>.py``, with
its docs text (summary, why, safe_alternative) and its bad / good examples beside it.

A rule is a small class with a stable ``id``, a ``severity``, the lock / rewrite facts
it reasons about (``why``), a one-line ``summary`` and the ``safe_alternative``
written as the Django migration steps to use instead. It implements any of three
hooks; each returns ``Hit``s (empty when the rule does not fire):

- ``check_statement(ctx: StatementContext)`` sees one SQL statement with its facts.
  These rules also run in ``dbgov lint`` over plain SQL files (no Django objects).
- ``check_operation(ctx: OperationContext)`` sees one Django operation, its
  statements and the Django ``Operation`` object.
- ``check_migration(ctx: MigrationContext)`` sees a whole migration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..facts import is_new_for, normalize_table
from ..model import LockLevel, Migration, Operation, Severity, Statement, StatementFacts


@dataclass
class Hit:
    """One place a rule fires. Unset fields are filled from the context and the rule."""

    message: str | None = None
    table: str | None = None
    lock: LockLevel | None = None
    rewrites: bool = False
    scans: bool = False
    # Override the rule's severity for this hit (e.g. an error-level variant)
    severity: Severity | None = None
    statement_index: int | None = None


@dataclass
class PlanContext:
    """What every rule may know about the whole run."""

    pg_version: int | None = None  # server_version_num, e.g. 150004
    # {table: task that created it earlier in the plan} (see facts.py)
    created_by: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    # {table: column tuples} of every index / PRIMARY KEY / UNIQUE the plan creates
    indexed_columns: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)
    # The task of the migration being checked (tables are new only for their task)
    current_task: str | None = None
    # Registered query-pattern names (DBGOV["QUERY_PATTERN_NAMES"]); None: not checked
    query_patterns: frozenset[str] | None = None

    @property
    def pg_major(self) -> int | None:
        return self.pg_version // 10000 if self.pg_version else None

    def is_new(self, table: str | None) -> bool:
        return table is not None and is_new_for(self.created_by, table, self.current_task)


@dataclass
class StatementContext:
    plan: PlanContext
    facts: StatementFacts
    statement: Statement | None
    index: int  # position among the migration's (or file's) statements
    in_transaction: bool
    # Facts of the statements earlier in the same transaction (same migration/file)
    previous_in_transaction: list[StatementFacts] = field(default_factory=list)
    # True when SET lock_timeout / statement_timeout is in force before this statement
    timeout_set: bool = False
    operation: Operation | None = None
    migration: Migration | None = None
    # SQL as written in the migration/file, when it differs from the rendered text
    source_sql: str | None = None
    # Tables created in this migration / file, and those of them created (and not
    # rolled back or dropped) before this statement (facts.created_before_each)
    created_here: frozenset[str] = frozenset()
    created_earlier: frozenset[str] = frozenset()

    def is_new(self, table: str | None) -> bool:
        if table is not None and self.created_here:
            name = normalize_table(table)
            if name in self.created_here:
                # created in this very migration: new only after its CREATE ran
                return name in self.created_earlier
        if self.statement is not None and self.statement.new_table:
            return True
        return self.plan.is_new(table)


@dataclass
class OperationContext:
    plan: PlanContext
    operation: Operation
    migration: Migration
    django_operation: Any | None  # the django.db.migrations Operation object
    django_migration: Any | None

    @property
    def statements(self) -> list[Statement]:
        return self.operation.statements

    def facts(self) -> Iterable[StatementFacts]:
        return (s.facts for s in self.operation.statements if s.facts is not None)

    def touches_only_new_tables(self) -> bool:
        tables = [t for f in self.facts() for t in f.tables]
        return bool(tables) and all(self.plan.is_new(t) for t in tables)


@dataclass
class MigrationContext:
    plan: PlanContext
    migration: Migration
    django_migration: Any | None


class Rule:
    id: ClassVar[str]
    severity: ClassVar[Severity]
    category: ClassVar[
        str
    ]  # locks | breaking | data | reversibility | robustness | types | conventions | process
    summary: ClassVar[str]  # one line: what is wrong
    why: ClassVar[str]  # the lock / rewrite / breakage facts behind it
    safe_alternative: ClassVar[str]  # the Django migration steps to write instead
    opt_in: ClassVar[bool] = False
    # True for rules about locks and rewrites: silent on tables created in the same plan
    locking: ClassVar[bool] = False
    # What the rule needs: "sql" rules also run in `dbgov lint`
    scope: ClassVar[str] = "django"
    # Statement kinds check_statement can fire on (None: any); the evaluator skips
    # the others, which keeps linting thousands of statements fast.
    kinds: ClassVar[frozenset[str] | None] = None
    # ALTER TABLE rules: the subcommands (facts.actions) they need, at least one of
    needs_actions: ClassVar[frozenset[str] | None] = None
    # Examples beside the rule, which the docs show and the tests run: what the rule
    # flags, and a near miss that reaches the rule's filter and passes. SQL for "sql"
    # rules (a first line "-- lint: --assume-in-transaction --pg-version N" gives the
    # options they need), Python for the others.
    bad: ClassVar[str] = ""
    good: ClassVar[str] = ""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        return ()

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        return ()

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        return ()

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "id": cls.id,
            "severity": cls.severity.value,
            "category": cls.category,
            "summary": cls.summary,
            "why": cls.why,
            "safe_alternative": cls.safe_alternative,
            "opt_in": cls.opt_in,
            "locking": cls.locking,
            "scope": cls.scope,
        }
