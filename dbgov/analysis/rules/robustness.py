"""Robustness: transaction control inside migrations, identifiers PostgreSQL would
truncate, statements that fail at run time, re-runnable SQL (opt-in)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..details import CreateTableDetail, DmlDetail, QueryDetail, ViewDetail
from ..model import Severity
from . import register
from .base import Hit, MigrationContext, Rule, StatementContext
from .helpers import commands, long_identifiers, target

_BEGIN = ("BEGIN",)
_END = ("COMMIT", "ROLLBACK", "PREPARE TRANSACTION")


@register
class TransactionNesting(Rule):
    kinds = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "PREPARE TRANSACTION"})
    id = "transaction-control"
    severity = Severity.CARE
    category = "robustness"
    scope = "sql"
    summary = "BEGIN / COMMIT / ROLLBACK inside a migration that already runs in a transaction."
    why = (
        "Django (or `--assume-in-transaction`) wraps the migration in a transaction: a "
        "nested BEGIN is ignored with a warning, and a COMMIT ends the migration's "
        "transaction early, so a later failure leaves the migration half applied and "
        "unrecorded."
    )
    safe_alternative = (
        "Remove the transaction statements; to run outside a transaction set "
        "`atomic = False` on the migration (and make each step idempotent)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        kind = ctx.facts.kind
        if kind in _BEGIN and ctx.in_transaction:
            yield Hit(
                message="BEGIN inside the migration's open transaction is ignored, so a "
                "COMMIT after it ends the migration's transaction early."
            )
        elif kind in _END and ctx.migration is not None and ctx.migration.atomic:
            yield Hit(
                message=f"{kind} ends the migration's own transaction early: a later failure "
                "leaves the migration half applied and unrecorded."
            )


@register
class UncommittedBegin(Rule):
    id = "uncommitted-begin"
    severity = Severity.CARE
    category = "robustness"
    scope = "sql"
    summary = "A BEGIN is never committed."
    why = (
        "The statements after it stay in an open transaction: their locks are held until "
        "the connection ends, and nothing is kept if it ends badly."
    )
    safe_alternative = "Close every BEGIN with COMMIT, or drop the transaction statements and let Django manage it."

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        open_at = None
        for operation in ctx.migration.operations:
            for index, statement in enumerate(operation.statements):
                kind = statement.facts.kind if statement.facts else ""
                if kind in _BEGIN:
                    open_at = (operation, index)
                elif kind in _END:
                    open_at = None
        if open_at is not None:
            yield Hit(
                message="BEGIN without a matching COMMIT keeps every lock taken after it until "
                "the connection ends, blocking the running release's queries on those tables.",
                statement_index=open_at[1],
            )


@register
class IdentifierTooLong(Rule):
    id = "identifier-too-long"
    severity = Severity.WARNING
    category = "robustness"
    scope = "sql"
    summary = "An identifier is longer than 63 bytes: PostgreSQL silently truncates it."
    why = (
        "NAMEDATALEN is 64: longer names are cut to 63 bytes, so the object gets a name the "
        "code (and later migrations that drop or rename it) does not use, and two long "
        "names can collide."
    )
    safe_alternative = (
        "Give the table, column, index or constraint an explicit name of at most 63 bytes."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        # The parser has already truncated the names in the facts: read the tokens.
        for name in long_identifiers(ctx.facts.sql):
            size = len(name.encode("utf-8"))
            yield Hit(
                message=f"{name!r} is {size} bytes: PostgreSQL silently truncates it to 63 "
                "bytes, so the object gets a name other than the one written (two such names "
                "can collide)."
            )


@register
class DuplicateColumnAssignment(Rule):
    kinds = frozenset(
        {
            "UPDATE",
            "INSERT",
            "MERGE",
            "CREATE TABLE",
            "ALTER TABLE",
            "CREATE VIEW",
            "CREATE TABLE AS",
            "CREATE MATERIALIZED VIEW",
        }
    )
    id = "duplicate-column"
    severity = Severity.CARE
    category = "robustness"
    scope = "sql"
    summary = "The same column is assigned or defined twice: the statement fails."
    why = 'PostgreSQL rejects it at run time ("multiple assignments to same column" / "specified more than once").'
    safe_alternative = "Assign or define each column once."

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        d = f.details
        lists: list[list[str]] = []
        if isinstance(d, DmlDetail):
            lists.append([c for c in d.columns if c])
            # INSERT … ON CONFLICT DO UPDATE SET, MERGE's WHEN clauses
            lists.extend(list(names) for names in d.assignment_lists)
        elif isinstance(d, CreateTableDetail):
            lists.append([c.name for c in d.columns if c.name])
        elif isinstance(d, QueryDetail):  # views, CREATE TABLE AS, SELECT … INTO
            lists.append(list(d.output_columns))
        lists.append([c.column.name for c in commands(f, "ADD COLUMN") if c.column])
        name_of = (d.view if isinstance(d, ViewDetail) else None) or target(f)
        for names in lists:
            for name, count in Counter(names).items():
                if count > 1:
                    yield Hit(
                        message=f"Column {name!r} appears {count} times in {f.kind} "
                        f"{name_of}: PostgreSQL rejects the statement and the migration fails."
                    )


@register
class PreferRobustStatements(Rule):
    id = "prefer-if-exists"
    severity = Severity.WARNING
    category = "robustness"
    scope = "sql"
    opt_in = True
    summary = "Use IF [NOT] EXISTS so the SQL can be re-run after a partial failure."
    why = (
        "A migration that runs outside a transaction (CONCURRENTLY, `atomic = False`) can "
        "stop half way; re-running it fails on the objects it already created or dropped."
    )
    safe_alternative = (
        "CREATE TABLE / INDEX IF NOT EXISTS, ADD COLUMN IF NOT EXISTS, DROP … IF EXISTS "
        "(and drop INVALID indexes left by a failed CONCURRENTLY build)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        d = f.details
        if f.kind in ("CREATE TABLE", "CREATE INDEX") and not d.if_not_exists:
            yield Hit(message=f"{f.kind} without IF NOT EXISTS.")
        elif f.kind.startswith("DROP ") and not d.if_exists:
            yield Hit(message=f"{f.kind} without IF EXISTS.")
        for cmd in commands(f, "ADD COLUMN"):
            if not cmd.if_not_exists:
                yield Hit(message=f"ADD COLUMN {cmd.column_name} without IF NOT EXISTS.")
        for cmd in commands(f, "DROP COLUMN", "DROP CONSTRAINT"):
            if not cmd.if_exists:
                yield Hit(message=f"{cmd.action} without IF EXISTS.")
