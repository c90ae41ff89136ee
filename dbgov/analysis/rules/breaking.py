"""Rules about changes that break the code still running during a deploy, beyond the
core set (drop column / table, rename, truncate, drop schema are in core.py)."""

from __future__ import annotations

from collections.abc import Iterable

from ..details import AlterDomainDetail, CreateDomainDetail, EnumDetail, IndexDetail
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
        if ctx.is_new(target(ctx.facts)):
            return  # created in this plan / file: no running code reads it yet
        for cmd in commands(ctx.facts, "DROP NOT NULL"):
            yield Hit(
                message=f"{target(ctx.facts)}.{cmd.column_name} becomes nullable (ACCESS "
                "EXCLUSIVE, briefly): code of the running release written for NOT NULL breaks "
                "on the first NULL a newer writer stores."
            )


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
        enum = ctx.facts.detail(EnumDetail)
        if enum and "ADD VALUE" in ctx.facts.actions and not (enum.before or enum.after):
            yield Hit(
                message=f"Enum {enum.type} gets {enum.value!r} without "
                "BEFORE/AFTER: it sorts last, which changes the running release's ORDER BY and "
                "range comparisons on the type."
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
        created = f.detail(CreateDomainDetail)
        if created and created.has_check:
            yield Hit(
                message=f"CREATE DOMAIN {created.domain} has a CHECK constraint: "
                "changing it later scans every table using the domain, under locks the "
                "running release waits for."
            )
        altered = f.detail(AlterDomainDetail)
        if altered and "ADD CONSTRAINT" in f.actions:
            yield Hit(
                message=f"ALTER DOMAIN {altered.domain} ADD CONSTRAINT checks every "
                "column using it, locking their tables while the running release waits.",
                scans=altered.checks_all_columns,
            )


@register
class AddUniqueIndex(Rule):
    kinds = frozenset({"CREATE INDEX"})
    id = "add-unique-index"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "A unique index on an existing table can reject the running release's writes."
    why = (
        "CREATE UNIQUE INDEX (even CONCURRENTLY, which keeps writes flowing while it builds) "
        "fails if the rows already hold duplicates — a CONCURRENTLY build then leaves an "
        "INVALID index behind that still slows writes — and once built it rejects every "
        "INSERT or UPDATE of the running release that would duplicate a key."
    )
    safe_alternative = (
        "1. Check for duplicates with a GROUP BY … HAVING count(*) > 1 query and clean them "
        "up. 2. Deploy code that never writes duplicates (get_or_create / update_or_create, "
        "or handle IntegrityError). 3. Then build the index CONCURRENTLY in a migration with "
        "`atomic = False`; drop an INVALID leftover before retrying."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        d = ctx.facts.detail(IndexDetail)
        if d is None or not d.unique:
            return
        table = target(ctx.facts)
        if ctx.is_new(table):
            return
        keys = ", ".join(d.columns) or "its expressions"
        if d.expressions and d.columns:
            keys += " and expressions"
        how = "CONCURRENTLY " if ctx.facts.concurrently else ""
        lock = ctx.facts.lock.value if ctx.facts.lock else "its lock"
        yield Hit(
            message=f"CREATE UNIQUE INDEX {how}on {table} ({keys}) under {lock} fails on "
            "existing duplicates and then rejects the running release's writes that "
            "duplicate a key.",
            table=table,
        )


@register
class NotValidConstraintRejectsWrites(Rule):
    needs_actions = frozenset(
        {"ADD CONSTRAINT CHECK", "ADD CONSTRAINT FOREIGN KEY", "ADD CONSTRAINT NOT NULL"}
    )
    kinds = frozenset({"ALTER TABLE"})
    id = "not-valid-rejects-writes"
    # A warning: NOT VALID is the safe way to add a constraint (add-check-validated,
    # add-foreign-key-validated); the reader checks the running release obeys it.
    severity = Severity.WARNING
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "A NOT VALID constraint is enforced on new writes at once."
    why = (
        "NOT VALID only skips checking the existing rows: from the commit on, every INSERT "
        "and UPDATE is checked, so the running release's writes that violate the new "
        "constraint fail before the new release that obeys it is deployed."
    )
    safe_alternative = (
        "Deploy the code that writes only valid rows first (or check that the running "
        "release never writes violating values), then add the constraint NOT VALID and "
        "VALIDATE it in a later migration."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        table = target(ctx.facts)
        for cmd in commands(ctx.facts):
            con = cmd.constraint
            if con is None or not con.not_valid or not cmd.action.startswith("ADD CONSTRAINT"):
                continue
            what = f"{con.type} {con.name or ''}".strip()
            if con.type == "FOREIGN KEY":
                what += f" → {con.referenced_table}"
            yield Hit(
                message=f"{what} on {table} is added NOT VALID under {cmd.lock}: it is enforced on "
                "new writes at once, so the running release's INSERT/UPDATE that violate it fail.",
                table=table,
            )
