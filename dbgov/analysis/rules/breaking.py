"""Rules about changes that break the code still running during a deploy, beyond the
core set (drop column / table, rename, truncate, drop schema are in core.py)."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Severity
from . import register
from .base import Hit, Rule, StatementContext
from .helpers import commands, target


@register
class DropNotNull(Rule):
    needs_actions = frozenset({"DROP NOT NULL"})
    kinds = frozenset({"ALTER TABLE"})
    id = "drop-not-null"
    severity = Severity.WARNING
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "DROP NOT NULL lets NULLs in that the running code does not expect."
    why = (
        "Code written for a NOT NULL column (and readers such as reports or other services) "
        "may break on the first NULL; the ALTER itself takes ACCESS EXCLUSIVE briefly."
    )
    safe_alternative = (
        "Deploy code that handles NULL (and the model with `null=True`) before or with the "
        "migration; keep the column NOT NULL if NULL has no meaning."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "DROP NOT NULL"):
            yield Hit(message=f"{target(ctx.facts)}.{cmd.get('column_name')} becomes nullable.")


@register
class EnumAddValue(Rule):
    kinds = frozenset({"ALTER TYPE"})
    id = "enum-add-value"
    severity = Severity.WARNING
    category = "breaking"
    scope = "sql"
    summary = "ALTER TYPE … ADD VALUE appends the label; order-sensitive code may change behaviour."
    why = (
        "Without BEFORE/AFTER the new label sorts last, which changes ORDER BY and range "
        "comparisons on the enum; before PostgreSQL 12 it cannot run in a transaction, and "
        "the new value cannot be used until the adding transaction commits."
    )
    safe_alternative = (
        "Say where the label goes (`ADD VALUE 'x' BEFORE 'y'`), use `IF NOT EXISTS`, and put "
        "it in its own migration (with `atomic = False` before PostgreSQL 12); or prefer a "
        "lookup table / CHECK constraint over an enum type."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if "ADD VALUE" in f.actions and not (f.details.get("before") or f.details.get("after")):
            yield Hit(
                message=f"Enum {f.details.get('type')} gets {f.details.get('value')!r} without BEFORE/AFTER."
            )


@register
class CreateDomainWithConstraint(Rule):
    kinds = frozenset({"CREATE DOMAIN", "ALTER DOMAIN"})
    id = "domain-with-constraint"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    summary = (
        "Domain constraints are checked on every column of the type, under locks you cannot see."
    )
    why = (
        "ALTER DOMAIN … ADD CONSTRAINT scans every table with a column of the domain "
        "(locking them), and a domain's CHECK silently applies to every future column; "
        "changing it later is the same full scan."
    )
    safe_alternative = (
        "Put CHECK constraints on the table columns instead (AddConstraint, NOT VALID + "
        "VALIDATE); keep domains without constraints."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind == "CREATE DOMAIN" and f.details.get("has_check"):
            yield Hit(message=f"CREATE DOMAIN {f.details.get('domain')} with a CHECK constraint.")
        if f.kind == "ALTER DOMAIN" and "ADD CONSTRAINT" in f.actions:
            yield Hit(
                message=f"ALTER DOMAIN {f.details.get('domain')} ADD CONSTRAINT checks every column using it.",
                scans=bool(f.details.get("checks_all_columns")),
            )
