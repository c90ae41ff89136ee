"""The core rules: DESIGN.md's safety classes, reversibility, and process.

Statement rules (scope "sql") read PostgreSQL's parse facts and also run in
``dbgov lint``; operation and migration rules need the Django objects.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..details import DropDetail, NamedDetail, RenameDetail
from ..facts import normalize_table
from ..model import LockLevel, Severity
from . import register
from .base import Hit, MigrationContext, OperationContext, Rule, StatementContext
from .helpers import commands, new_constraints

# -- process -------------------------------------------------------------------------


@register
class MissingTask(Rule):
    id = "missing-task"
    severity = Severity.CARE
    category = "process"
    summary = "The migration names no task (T-NNN)."
    why = (
        "Every migration belongs to a task so that reviewers can check it against the "
        "task's acceptance criteria and approvals can be traced."
    )
    safe_alternative = (
        'Add `dbgov_task = "T-NNN"` to the Migration class, or generate it with '
        "`manage.py dbgov makemigrations --task T-NNN`."
    )

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        if not ctx.migration.task:
            yield Hit(message=f"{ctx.migration.label} names no task (T-NNN).")


@register
class RenderFailed(Rule):
    id = "render-failed"
    severity = Severity.ERROR
    # Not a team convention: what could not be analysed needs a human in every app.
    category = "analysis"
    summary = "dbgov could not render this operation's SQL."
    why = (
        "The SQL of the operation is unknown, so nothing can be said about its locks; "
        "it usually fails on `migrate` the same way."
    )
    safe_alternative = "Fix the error shown (run `manage.py sqlmigrate` to reproduce it)."

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.error:
            yield Hit(message=f"SQL could not be rendered: {ctx.operation.error}")


@register
class SqlParseError(Rule):
    # every kind: a statement that parses is the near miss (parse errors have kind "")
    id = "sql-parse-error"
    severity = Severity.ERROR
    category = "analysis"
    scope = "sql"
    summary = "PostgreSQL's parser rejects this SQL."
    why = "A statement that does not parse fails when the migration runs."
    safe_alternative = "Fix the SQL; `psql` reports the same error at the same position."

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.facts.parse_error:
            error = ctx.facts.parse_error.rstrip(".")
            yield Hit(
                message=f"PostgreSQL's parser rejects this statement ({error}), so the "
                "migration fails here."
            )


# -- reversibility ---------------------------------------------------------------------


@register
class RunPythonWithoutReverse(Rule):
    id = "runpython-no-reverse"
    severity = Severity.CARE
    category = "reversibility"
    summary = "RunPython has no reverse_code: the migration cannot be rolled back."
    why = "`migrate app <previous>` raises IrreversibleError, so a failed deploy cannot be undone."
    safe_alternative = (
        "Pass `reverse_code=` (a function undoing the change, or "
        "`migrations.RunPython.noop` when there is nothing to undo)."
    )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type == "RunPython" and not ctx.operation.reversible:
            yield Hit()


@register
class RunSqlWithoutReverse(Rule):
    id = "runsql-no-reverse"
    severity = Severity.CARE
    category = "reversibility"
    summary = "RunSQL has no reverse_sql: the migration cannot be rolled back."
    why = "`migrate app <previous>` raises IrreversibleError, so a failed deploy cannot be undone."
    safe_alternative = (
        "Pass `reverse_sql=` with the statements undoing the change "
        "(`migrations.RunSQL.noop` when there is nothing to undo)."
    )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type == "RunSQL" and not ctx.operation.reversible:
            yield Hit()


@register
class IrreversibleOperation(Rule):
    id = "irreversible-operation"
    severity = Severity.CARE
    category = "reversibility"
    summary = "This operation cannot be reversed."
    why = "Django marks the operation irreversible: rolling the migration back raises IrreversibleError."
    safe_alternative = (
        "Split the change so that each step can be reversed, or document the roll-forward plan."
    )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type not in ("RunPython", "RunSQL") and not ctx.operation.reversible:
            yield Hit(message=f"{ctx.operation.type} cannot be reversed.")


# -- data ------------------------------------------------------------------------------


@register
class DataMigration(Rule):
    id = "data-migration"
    severity = Severity.CARE
    category = "data"
    summary = "A data migration runs Python once, when it is applied: review its speed and locks."
    why = (
        "RunPython code is not visible as SQL: it may update whole tables in one "
        "transaction, holding row locks until the migration commits."
    )
    safe_alternative = (
        "Keep data migrations separate from schema changes, make them idempotent and "
        "batched (update in chunks of primary keys), use `apps.get_model`, and give them "
        "`reverse_code`."
    )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        if ctx.operation.type == "RunPython":
            yield Hit()


# -- locks and rewrites ---------------------------------------------------------------------


@register
class AddColumnNotNullWithoutDefault(Rule):
    needs_actions = frozenset({"ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-column-not-null-no-default"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "A NOT NULL column without a default is added to an existing table."
    why = (
        "ALTER TABLE … ADD COLUMN … NOT NULL takes ACCESS EXCLUSIVE and fails as soon as "
        "the table has a row; the running code also does not write the column yet."
    )
    safe_alternative = (
        "1. AddField with `null=True` (or a constant `db_default`, which PostgreSQL 11+ adds "
        "without a rewrite). 2. Backfill in batches in a separate data migration. "
        "3. Add NOT NULL through a CHECK (col IS NOT NULL) NOT VALID constraint, VALIDATE it "
        "in another migration, then AlterField to `null=False`."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        # Judged on the SQL PostgreSQL runs: Django's one-off default (AddField with
        # preserve_default=False) is in the ADD COLUMN, so it does not fail; DEFAULT NULL
        # NOT NULL (db_default=None) does (issue 10, both checked by the oracle).
        for cmd in commands(ctx.facts, "ADD COLUMN"):
            col = cmd.column
            if col is None or not cmd.fails_if_rows:
                continue
            table = ctx.facts.tables[0] if ctx.facts.tables else None
            default = " (its default is NULL)" if col.default_null else ""
            yield Hit(
                message=f"ADD COLUMN {col.name!r} NOT NULL{default} on existing table "
                f"{table} fails as soon as the table has a row, after the running release's "
                "queries on it have queued behind its ACCESS EXCLUSIVE lock.",
                table=table,
                lock=LockLevel.ACCESS_EXCLUSIVE,
            )


@register
class NotNullDefaultDropped(Rule):
    needs_actions = frozenset({"DROP DEFAULT"})
    kinds = frozenset({"ALTER TABLE"})
    id = "not-null-default-dropped"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "A NOT NULL column is added with a default that is dropped at once."
    why = (
        "Django's one-off default (makemigrations asked for one) fills the existing rows "
        "without a rewrite, then DROP DEFAULT removes it: the release still running does "
        "not know the column, so its INSERTs omit it and fail with a NOT NULL violation "
        "until the new release is deployed."
    )
    safe_alternative = (
        "Keep a database default for the running release: `db_default=` on the field (or "
        "`preserve_default=True`), or add the column nullable first and make it NOT NULL in "
        "a later release once every writer sets it."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        table = ctx.facts.tables[0] if ctx.facts.tables else None
        for cmd in commands(ctx.facts, "DROP DEFAULT"):
            column = cmd.column_name
            for earlier in ctx.previous_in_transaction:
                for added in commands(earlier, "ADD COLUMN"):
                    col = added.column
                    if (
                        col is not None
                        and col.name == column
                        and col.not_null
                        and col.has_default
                        and earlier.tables[:1] == ctx.facts.tables[:1]
                    ):
                        yield Hit(
                            message=f"{table}.{column} is NOT NULL and its default is dropped "
                            "(under ACCESS EXCLUSIVE) right after it is added: INSERTs of the "
                            "running release, which "
                            "omit the column, fail until the new release is deployed.",
                            table=table,
                            lock=LockLevel.ACCESS_EXCLUSIVE,
                        )


@register
class CreateIndexNotConcurrently(Rule):
    kinds = frozenset({"CREATE INDEX"})
    id = "create-index-not-concurrently"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build."
    why = "CREATE INDEX takes a SHARE lock: INSERT/UPDATE/DELETE wait until the index is built (a full scan)."
    safe_alternative = (
        "Use `django.contrib.postgres.operations.AddIndexConcurrently` in a migration with "
        "`atomic = False` (and `RemoveIndexConcurrently` to drop)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind == "CREATE INDEX" and not f.concurrently:
            table = f.tables[0] if f.tables else None
            if not ctx.is_new(table):
                yield Hit(
                    message=f"CREATE INDEX on {table} without CONCURRENTLY holds SHARE for the "
                    f"whole build: the running release's INSERT, UPDATE and DELETE on {table} "
                    "wait until it finishes.",
                    table=table,
                )


@register
class ConcurrentlyInTransaction(Rule):
    id = "concurrently-in-transaction"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    summary = "CONCURRENTLY cannot run inside a transaction: the migration fails."
    why = (
        "PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY (and other concurrent commands) "
        "in a transaction block; Django runs migrations in one unless `atomic = False`."
    )
    safe_alternative = (
        "Set `atomic = False` on the migration and keep the concurrent operation alone in it."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.in_transaction and not ctx.facts.transactional:
            yield Hit(
                message=f"{ctx.facts.kind} CONCURRENTLY on {', '.join(ctx.facts.tables) or 'its table'}"
                f" ({ctx.facts.lock.value if ctx.facts.lock else 'no lock'}) cannot run inside "
                "the migration's transaction block: PostgreSQL refuses it and the migration fails."
                if ctx.facts.concurrently
                else f"{ctx.facts.kind} cannot run inside the migration's transaction block: "
                "PostgreSQL refuses it and the migration fails."
            )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        # Django refuses to render these in an atomic migration, so there is no SQL
        # for the statement check to see.
        if (
            ctx.operation.type in ("AddIndexConcurrently", "RemoveIndexConcurrently")
            and ctx.migration.atomic
        ):
            yield Hit(
                message=f"{ctx.operation.type} in an atomic migration: Django refuses to run it."
            )


@register
class SetNotNull(Rule):
    kinds = frozenset({"ALTER TABLE"})
    id = "set-not-null"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "SET NOT NULL (or PostgreSQL 18's ADD CONSTRAINT … NOT NULL) scans the whole table under ACCESS EXCLUSIVE."
    why = (
        "ALTER COLUMN … SET NOT NULL and a validated ADD CONSTRAINT … NOT NULL take ACCESS "
        "EXCLUSIVE and read every row to check it, unless a valid CHECK (col IS NOT NULL) "
        "constraint already proves it (PostgreSQL 12+)."
    )
    safe_alternative = (
        "1. AddConstraint CHECK (col IS NOT NULL) NOT VALID (RunSQL). 2. In a separate "
        "migration, VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE). 3. Then AlterField "
        "`null=False` (PostgreSQL 12+ skips the scan) and drop the CHECK."
    )

    def __init__(self) -> None:
        # (table, column) proven NOT NULL by a valid CHECK earlier in the run, and the
        # NOT VALID ones waiting for their VALIDATE: {(table, constraint): column}
        self._proven: set[tuple[str, str]] = set()
        self._pending: dict[tuple[str, str], str] = {}

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        table = ctx.facts.tables[0] if ctx.facts.tables else None
        key = normalize_table(table or "")
        for cmd in commands(ctx.facts):
            con = cmd.constraint
            column = con.not_null_column if con else None
            if con is not None and cmd.action == "ADD CONSTRAINT CHECK" and column:
                if con.not_valid:
                    self._pending[(key, str(con.name))] = column
                else:
                    self._proven.add((key, column))
            elif cmd.action == "VALIDATE CONSTRAINT":
                name = (key, str(cmd.constraint_name))
                if name in self._pending:
                    self._proven.add((key, self._pending.pop(name)))
        major = ctx.plan.pg_major
        for cmd in commands(ctx.facts):
            columns: list[str | None]
            if cmd.action == "SET NOT NULL":
                columns = [cmd.column_name]
                how = "SET NOT NULL"
            elif cmd.action == "ADD CONSTRAINT NOT NULL" and not cmd.not_valid:
                # PostgreSQL 18: a named NOT NULL constraint, validated like SET NOT NULL
                columns = list(cmd.constraint.columns if cmd.constraint else ())
                how = "ADD CONSTRAINT … NOT NULL"
            else:
                continue
            unproven = [
                c
                for c in columns
                if not ((key, c) in self._proven and (major is None or major >= 12))
            ]
            if not unproven:
                continue  # the validated CHECK proves it: no scan
            yield Hit(
                message=f"{how} ({', '.join(map(str, unproven))}) on {table} reads every row "
                "under ACCESS EXCLUSIVE: the running release's reads and writes on it wait "
                "for the whole scan.",
                table=table,
                scans=True,
            )


@register
class AlterColumnType(Rule):
    needs_actions = frozenset({"ALTER COLUMN TYPE"})
    kinds = frozenset({"ALTER TABLE"})
    id = "alter-column-type"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "ALTER COLUMN TYPE rewrites the table under ACCESS EXCLUSIVE."
    why = (
        "Changing a column's type rewrites the table and its indexes while holding ACCESS "
        "EXCLUSIVE (reads and writes wait), except binary-coercible changes such as "
        "varchar(n) widening, varchar to text, or a numeric precision increase."
    )
    safe_alternative = (
        "Expand and contract: 1. AddField a new column of the new type. 2. Write both "
        "columns from the code and backfill in batches. 3. Switch reads. 4. RemoveField "
        "the old column in a later release."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if "ALTER COLUMN TYPE" not in ctx.facts.actions:
            return
        table = ctx.facts.tables[0] if ctx.facts.tables else None
        details = ctx.operation.details if ctx.operation else {}
        old, new = details.get("old_type"), details.get("new_type")
        rewrites = _type_change_rewrites(old, new)
        if rewrites is False:
            return
        change = f" from {old} to {new}" if old and new else ""
        yield Hit(
            message=f"Column type change on {table}{change} rewrites the table under ACCESS "
            "EXCLUSIVE: the running release's reads and writes on it wait for the whole rewrite.",
            table=table,
            rewrites=True,
        )


def _type_change_rewrites(old: str | None, new: str | None) -> bool | None:
    if not old or not new:
        return None
    try:
        from ..locks import type_change_rewrites
    except ImportError:  # pragma: no cover - locks.py always ships it
        return None
    return type_change_rewrites(old, new)


@register
class AddForeignKeyValidated(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT FOREIGN KEY", "ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-foreign-key-validated"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "Adding a validated FOREIGN KEY locks both tables and scans the referencing one."
    why = (
        "ADD CONSTRAINT … FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables (writes wait) "
        "and checks every existing row before it commits."
    )
    safe_alternative = (
        "Add it NOT VALID, then VALIDATE CONSTRAINT in a separate migration (SHARE UPDATE "
        "EXCLUSIVE, writes continue): `migrations.AddField(..., db_constraint=False)` then "
        "RunSQL `ADD CONSTRAINT … NOT VALID` and, in the next migration, `VALIDATE CONSTRAINT`; "
        "or keep the SQL in SeparateDatabaseAndState."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        validated = [
            c
            for c in commands(f)
            if c.constraint is not None
            and c.constraint.type == "FOREIGN KEY"
            and not c.constraint.not_valid
        ]
        if validated:
            table = f.tables[0] if f.tables else None
            if not ctx.is_new(table):
                referenced = ", ".join(
                    dict.fromkeys(
                        str(c.constraint.referenced_table) for c in validated if c.constraint
                    )
                )
                yield Hit(
                    message=f"FOREIGN KEY on {table} → {referenced} is validated at once under "
                    f"SHARE ROW EXCLUSIVE on both tables: the running release's writes to "
                    f"{table} and {referenced} wait while every row is checked.",
                    table=table,
                    scans=True,
                )


@register
class AddCheckValidated(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT CHECK"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-check-validated"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "Adding a validated CHECK constraint scans the table under ACCESS EXCLUSIVE."
    why = "ADD CONSTRAINT … CHECK takes ACCESS EXCLUSIVE and reads every row before it commits."
    safe_alternative = (
        "Add it with NOT VALID (RunSQL, or AddConstraint then edit), then VALIDATE CONSTRAINT "
        "in a separate migration (SHARE UPDATE EXCLUSIVE)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if any(
            c.constraint and not c.constraint.not_valid for c in commands(f, "ADD CONSTRAINT CHECK")
        ):
            table = f.tables[0] if f.tables else None
            yield Hit(
                message=f"CHECK constraint on {table} is validated at once under ACCESS "
                "EXCLUSIVE: the running release's reads and writes on it wait while every row "
                "is checked.",
                table=table,
                scans=True,
            )


# -- breaking running code --------------------------------------------------------------------


@register
class DropColumn(Rule):
    needs_actions = frozenset({"DROP COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "drop-column"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "Dropping a column breaks the code still running against it."
    why = (
        "Django selects every model field: the release still running during the deploy "
        "fails on the missing column. DROP COLUMN itself takes ACCESS EXCLUSIVE briefly."
    )
    safe_alternative = (
        "1. Remove the field from the model but keep the column: SeparateDatabaseAndState "
        "with `state_operations=[RemoveField(...)]` and no database operation (make it "
        "nullable first if it is NOT NULL). 2. Deploy. 3. Drop the column in a later release."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if "DROP COLUMN" in ctx.facts.actions:
            table = ctx.facts.tables[0] if ctx.facts.tables else None
            columns = ", ".join(str(c.column_name) for c in commands(ctx.facts, "DROP COLUMN"))
            yield Hit(
                message=f"DROP COLUMN {columns} on {table} (ACCESS EXCLUSIVE) makes the running "
                "release's queries that read or write it fail (Django selects every field), "
                "and its data is gone.",
                table=table,
            )


@register
class RenameColumnOrTable(Rule):
    needs_actions = frozenset({"RENAME COLUMN", "RENAME TABLE"})
    kinds = frozenset({"ALTER TABLE"})
    id = "rename"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "Renaming a column or table breaks the code still running against the old name."
    why = "The release still running during the deploy uses the old name and fails; RENAME takes ACCESS EXCLUSIVE."
    safe_alternative = (
        "Expand and contract: 1. AddField/CreateModel with the new name. 2. Write both, "
        "backfill in batches. 3. Switch reads. 4. Remove the old one in a later release. "
        "(For a model, `db_table` can keep the old table name instead.)"
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        actions = ctx.facts.actions
        if "RENAME COLUMN" in actions or "RENAME TABLE" in actions:
            table = ctx.facts.tables[0] if ctx.facts.tables else None
            d = ctx.facts.detail(RenameDetail) or RenameDetail()
            what = (
                f"column {d.old_name} of {table}"
                if "RENAME COLUMN" in actions
                else f"table {table}"
            )
            yield Hit(
                message=f"Renaming {what} to {d.new_name} (ACCESS EXCLUSIVE) makes the "
                "running release's queries that use the old name fail.",
                table=table,
            )


@register
class DropTable(Rule):
    kinds = frozenset({"DROP TABLE"})
    id = "drop-table"
    severity = Severity.PLAN
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "DROP TABLE destroys data and breaks code still using the table."
    why = "The data is gone once committed; DROP TABLE takes ACCESS EXCLUSIVE."
    safe_alternative = (
        "1. Stop using the model in code and deploy. 2. Archive the table (pg_dump -t, or "
        "rename it to an _archived name). 3. DeleteModel in a later release, with an "
        "approved plan."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.facts.kind == "DROP TABLE":
            tables = ", ".join(ctx.facts.tables)
            yield Hit(
                message=f"DROP TABLE {tables} (ACCESS EXCLUSIVE) destroys its data and makes the "
                "running release's queries on it fail."
            )


@register
class Truncate(Rule):
    kinds = frozenset({"TRUNCATE"})
    id = "truncate"
    severity = Severity.PLAN
    category = "breaking"
    scope = "sql"
    summary = "TRUNCATE deletes every row."
    why = "TRUNCATE takes ACCESS EXCLUSIVE and removes all rows (with CASCADE, of referencing tables too)."
    safe_alternative = (
        "Archive first and delete in batches with an approved plan; never in a schema migration."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        tables = [t for t in ctx.facts.tables if not ctx.is_new(t)]
        if ctx.facts.kind == "TRUNCATE" and tables:
            cascade = (
                " (and, with CASCADE, of every referencing table)"
                if "CASCADE" in ctx.facts.actions
                else ""
            )
            yield Hit(
                message=f"TRUNCATE {', '.join(tables)} deletes every row{cascade} under ACCESS "
                "EXCLUSIVE: the running release reads empty tables from the commit on."
            )


@register
class DropSchemaOrDatabase(Rule):
    kinds = frozenset({"CREATE SCHEMA", "DROP SCHEMA", "DROP DATABASE"})
    id = "drop-schema-or-database"
    severity = Severity.PLAN
    category = "breaking"
    scope = "sql"
    summary = "DROP SCHEMA / DROP DATABASE destroys everything in it."
    why = "Every table, function and row inside is gone once committed."
    safe_alternative = "Never in a migration: archive, then drop by hand under an approved plan."

    def __init__(self) -> None:
        # schemas created earlier in the same migration / file: {(migration id, name)}
        self._created: set[tuple[int, str]] = set()

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        key = id(ctx.migration) if ctx.migration is not None else -1
        f = ctx.facts
        named = f.detail(NamedDetail)
        if f.kind == "CREATE SCHEMA":
            self._created.add((key, str(named.name if named else "").lower()))
            return
        drop = f.detail(DropDetail)
        names = list(drop.objects) if drop else [str(named.name)] if named else []
        if f.kind == "DROP SCHEMA" and all((key, n.lower()) in self._created for n in names):
            return  # only schemas this file created: nothing of the running release
        if f.kind in ("DROP SCHEMA", "DROP DATABASE"):
            yield Hit(
                message=f"{f.kind} {', '.join(names)} destroys every table and row in it (ACCESS "
                "EXCLUSIVE on each): the "
                "running release's queries on them fail from the commit on."
            )


# -- conventions ----------------------------------------------------------------------------


@register
class CascadeDelete(Rule):
    id = "fk-on-delete-cascade"
    severity = Severity.CARE
    category = "conventions"
    scope = "sql"  # the SQL check also runs in `dbgov lint`
    summary = "A foreign key deletes rows in cascade: a reviewer must confirm it."
    why = (
        "on_delete=CASCADE (or ON DELETE CASCADE in SQL) deletes every referencing row when "
        "the referenced one goes: one delete can remove large amounts of data and hold "
        "row locks on several tables."
    )
    safe_alternative = (
        "Keep CASCADE only for rows that cannot exist alone (order items of an order) and "
        "say so in review; otherwise use PROTECT or SET_NULL, or soft-delete with deleted_at."
    )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        op = ctx.django_operation
        if op is None:
            return
        fields: list[tuple[str, object]] = []
        if ctx.operation.type == "CreateModel":
            fields = list(getattr(op, "fields", []))
        elif ctx.operation.type == "AddField" or (
            ctx.operation.type == "AlterField"
            # only when the change introduces CASCADE (issue 10: an AlterField that keeps
            # an unchanged CASCADE is not a new decision to review)
            and ctx.operation.details.get("old_on_delete") != "CASCADE"
        ):
            fields = [(op.name, op.field)]
        model = (
            getattr(op, "name", None)
            if ctx.operation.type == "CreateModel"
            else getattr(op, "model_name", None)
        )
        for name, field in fields:
            remote = getattr(field, "remote_field", None)
            on_delete = getattr(remote, "on_delete", None)
            if on_delete is not None and getattr(on_delete, "__name__", "") == "CASCADE":
                target = remote.model if isinstance(remote.model, str) else remote.model._meta.label  # type: ignore[union-attr]
                yield Hit(
                    message=f"{ctx.migration.app_label}.{model}.{name} → {target} uses on_delete=CASCADE: "
                    f"deleting one {target} deletes all its {model} rows.",
                )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        # Django emulates CASCADE in Python and never writes ON DELETE: this is raw SQL.
        for constraint in new_constraints(ctx.facts):
            if constraint.on_delete == "CASCADE":
                yield Hit(
                    message=f"ON DELETE CASCADE from {ctx.facts.details.table} to "
                    f"{constraint.referenced_table}: deleting a referenced row deletes the referencing rows."
                )
