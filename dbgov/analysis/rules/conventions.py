"""The team conventions of DESIGN.md: PII flags, justified and present indexes,
reviewed CASCADE deletes, table names and standard columns, soft delete (opt-in).

Convention rules also fire on tables created in the same plan (they are not locking
rules): a new table is where conventions are set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..details import CommentDetail, CreateTableDetail, IndexDetail, RenameDetail
from ..model import Severity
from . import register
from .base import Hit, MigrationContext, OperationContext, Rule, StatementContext
from .helpers import added_columns, new_constraints, target

# Column names that look like personal data (override with DBGOV["PII_NAME_PATTERN"]).
PII_NAME_PATTERN = (
    r"(^|_)(e_?mail|email_address|phone|phone_number|mobile|telephone|tel|fax|"
    r"first_name|last_name|full_name|middle_name|surname|given_name|family_name|maiden_name|"
    r"address|street|street_address|address_line\d?|postal_code|postcode|zip|zip_code|"
    r"birth_?date|date_of_birth|dob|birthday|ssn|social_security_number|national_id|"
    r"passport|passport_number|tax_id|vat_number|iban|card_number|ip|ip_address|"
    r"remote_addr|gender|nationality|geolocation|latitude|longitude)($|_)"
)
# The marker a db_comment must contain to flag a column as personal data.
PII_MARKER = "PII"


def _setting(ctx: Any, key: str, default: Any) -> Any:
    value = ctx.plan.settings.get(key)
    return default if value is None else value


@register
class PiiColumnWithoutFlag(Rule):
    id = "pii-column-unflagged"
    severity = Severity.WARNING  # a convention: advice that never blocks
    category = "conventions"
    scope = "sql"
    summary = "A column that looks like personal data has no PII flag in its comment."
    why = (
        "Personal data must be findable (GDPR requests, masking of staging copies, "
        "access reviews): dbgov and the DBA rely on the `PII` marker in the column comment."
    )
    safe_alternative = (
        'Declare it on the field: `models.EmailField(db_comment="PII: contact email")` '
        "(Django emits COMMENT ON COLUMN), or RunSQL `COMMENT ON COLUMN t.c IS 'PII: …'`."
    )

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        pattern = re.compile(_setting(ctx, "PII_NAME_PATTERN", PII_NAME_PATTERN), re.I)
        marker = str(_setting(ctx, "PII_MARKER", PII_MARKER)).lower()
        flagged: set[tuple[str, str]] = set()
        candidates: list[tuple[str, str, int]] = []
        for operation in ctx.migration.operations:
            for statement in operation.statements:
                f = statement.facts
                if f is None:
                    continue
                comment = f.detail(CommentDetail)
                if comment is not None and comment.object_type == "COLUMN":
                    if marker in str(comment.comment or "").lower():
                        flagged.add((_bare(comment.table), str(comment.column)))
                    continue
                for col in added_columns(f):
                    name = str(col.name or "")
                    if pattern.search(name):
                        candidates.append((_bare(target(f)), name, operation.index))
        for table, column, _index in candidates:
            if (table, column) not in flagged:
                yield Hit(
                    message=f"{table}.{column} looks like personal data but has no {marker.upper()} comment.",
                    table=table,
                )


def _bare(table: str | None) -> str:
    name = (table or "").replace('"', "").lower()
    return name.removeprefix("public.")


@register
class IndexWithoutPurpose(Rule):
    id = "index-without-purpose"
    severity = Severity.WARNING
    category = "conventions"
    summary = "An index names no query pattern that justifies it."
    why = (
        "Every index slows every write and costs memory; dbgov keeps indexes only when a "
        "named query pattern needs them, and rehearsals EXPLAIN that query before and after."
    )
    safe_alternative = (
        'Name the query in the migration: `dbgov_index_purpose = {"<index name>": "<query '
        'pattern>"}` (and register the pattern), or drop the index.'
    )

    _INDEX_OPS = ("AddIndex", "AddIndexConcurrently", "RunSQL")
    # Field operations create indexes for `db_index=True` too; the ones Django adds for
    # a foreign key (the key justifies them) and the `_like` companions are skipped.
    _FIELD_OPS = ("AddField", "AlterField", "CreateModel")

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        op_type = ctx.operation.type
        if op_type not in self._INDEX_OPS and op_type not in self._FIELD_OPS:
            return
        purposes = ctx.migration.index_purpose
        fk_columns: set[tuple[str, tuple[str, ...]]] = set()
        if op_type in self._FIELD_OPS:
            for facts in ctx.facts():
                for con in new_constraints(facts):
                    if con.type == "FOREIGN KEY":
                        fk_columns.add((_bare(target(facts)), tuple(con.columns)))
        for facts in ctx.facts():
            index = facts.detail(IndexDetail)
            if index is not None:
                name = index.index
                if op_type in self._FIELD_OPS and (
                    str(name).endswith("_like")
                    or (_bare(target(facts)), index.columns) in fk_columns
                ):
                    continue
                if name and name not in purposes:
                    yield Hit(
                        message=f"Index {name} on {target(facts)} names no query pattern.",
                        table=target(facts),
                    )
                elif (
                    name
                    and ctx.plan.query_patterns is not None
                    and purposes[name] not in ctx.plan.query_patterns
                ):
                    yield Hit(
                        message=f"Index {name} on {target(facts)} names the query pattern "
                        f"{purposes[name]!r}, which is not registered.",
                        table=target(facts),
                    )


@register
class ForeignKeyWithoutIndex(Rule):
    id = "foreign-key-without-index"
    severity = Severity.WARNING
    category = "conventions"
    scope = "sql"
    summary = "A foreign key has no index starting with its columns."
    why = (
        "Deleting or updating a referenced row scans the referencing table without one "
        "(under the FK's row locks), and joins on the key are slow."
    )
    safe_alternative = (
        "Keep Django's default `db_index=True` on ForeignKey, or add an index whose first "
        "columns are the key (AddIndexConcurrently on an existing table)."
    )

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        indexed: set[tuple[str, tuple[str, ...]]] = set()
        fks: list[tuple[str, tuple[str, ...], str | None]] = []
        # Only keys on columns created here: an older column may be indexed already.
        created: set[tuple[str, str]] = set()
        for operation in ctx.migration.operations:
            for statement in operation.statements:
                f = statement.facts
                if f is None:
                    continue
                table = _bare(target(f))
                created.update((table, str(c.name)) for c in added_columns(f))
                index = f.detail(IndexDetail)
                if index is not None:
                    indexed.add((table, index.columns))
                for con in new_constraints(f):
                    cols = tuple(c for c in con.columns if c)
                    if con.type in ("PRIMARY KEY", "UNIQUE"):
                        indexed.add((table, cols))
                    elif con.type == "FOREIGN KEY":
                        fks.append((table, cols, con.referenced_table))
        # indexes anywhere in the plan count (the demo's T-021 adds its index next)
        for table, cols, ref in fks:
            candidates = [idx for t, idx in indexed if t == table]
            candidates.extend(ctx.plan.indexed_columns.get(table, ()))
            covered = any(idx[: len(cols)] == cols for idx in candidates)
            if cols and not covered and all((table, c) in created for c in cols):
                yield Hit(
                    message=f"Foreign key {table}({', '.join(cols)}) → {ref} has no index.",
                    table=table,
                )


@register
class TableNaming(Rule):
    id = "table-naming"
    severity = Severity.WARNING
    category = "conventions"
    summary = "The table is not named `<app_label>_<table>`."
    why = (
        "Predictable names tell at a glance which app owns a table (permissions, backups, "
        "dbgov's reports); custom db_table names break that."
    )
    safe_alternative = "Drop the custom `db_table` (Django names it `<app_label>_<model>`) or prefix it with the app label."

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        prefix = f"{ctx.migration.app_label}_"
        if ctx.operation.type == "CreateModel":
            for facts in ctx.facts():
                if facts.kind == "CREATE TABLE":
                    table = _bare(facts.details.table)
                    if not table.startswith(prefix):
                        yield Hit(
                            message=f"Table {table} does not start with {prefix!r}.", table=table
                        )
                    return
        elif ctx.operation.type in ("AlterModelTable", "RenameModel"):
            for facts in ctx.facts():
                if "RENAME TABLE" in facts.actions:
                    renamed = facts.detail(RenameDetail)
                    new = _bare(renamed.new_name if renamed else None)
                    if not new.startswith(prefix):
                        yield Hit(
                            message=f"Table renamed to {new}, which does not start with {prefix!r}.",
                            table=new,
                        )
                    return


_REQUIRED_COLUMNS = ("id", "created_at", "updated_at")


@register
class StandardColumns(Rule):
    id = "table-standard-columns"
    severity = Severity.WARNING
    category = "conventions"
    summary = "A new table lacks the standard columns (id, created_at, updated_at)."
    why = (
        "Every table gets a surrogate key and timestamps so rows can be referenced, "
        "audited and synchronised incrementally."
    )
    safe_alternative = (
        "Add `created_at = models.DateTimeField(auto_now_add=True)` and "
        "`updated_at = models.DateTimeField(auto_now=True)` (an abstract base model helps); "
        'configure the list with DBGOV["REQUIRED_COLUMNS"].'
    )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type != "CreateModel":
            return
        required = _setting(ctx, "REQUIRED_COLUMNS", _REQUIRED_COLUMNS)
        for facts in ctx.facts():
            created = facts.detail(CreateTableDetail)
            if created is not None:  # the model's own table comes first
                names = {c.name for c in created.columns}
                missing = [c for c in required if c not in names]
                if missing:
                    table = _bare(created.table)
                    yield Hit(message=f"Table {table} has no {', '.join(missing)}.", table=table)
                return


@register
class HardDelete(Rule):
    kinds = frozenset({"DELETE"})
    id = "hard-delete"
    severity = Severity.WARNING
    category = "conventions"
    scope = "sql"
    opt_in = True
    summary = "Rows are deleted where the soft-delete convention (deleted_at) applies."
    why = "With a soft-delete convention, rows are marked with deleted_at so history and references survive."
    safe_alternative = "UPDATE … SET deleted_at = now() WHERE … instead of DELETE (and filter on deleted_at IS NULL)."

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        table = ctx.facts.details.table
        if ctx.facts.kind == "DELETE" and not ctx.is_new(table):
            yield Hit(message=f"DELETE FROM {table}: use deleted_at instead.")
