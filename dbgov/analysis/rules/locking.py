"""Lock and rewrite rules beyond the core set: what blocks reads or writes on a live
table, and for how long (facts from dbgov.analysis.locks, PostgreSQL docs cited there).

All are ``locking`` rules: they stay silent on tables created earlier in the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..details import DropDetail, ReindexDetail, VacuumDetail
from ..model import LockLevel, Severity
from . import register
from .base import Hit, Rule, StatementContext
from .helpers import commands, target

AE = LockLevel.ACCESS_EXCLUSIVE


@register
class DropIndexNotConcurrently(Rule):
    kinds = frozenset({"DROP INDEX"})
    id = "drop-index-not-concurrently"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table."
    why = (
        "A plain DROP INDEX locks the index's table with ACCESS EXCLUSIVE: every read and "
        "write waits, and queues behind any long transaction (sql-dropindex.html)."
    )
    safe_alternative = (
        "Use `django.contrib.postgres.operations.RemoveIndexConcurrently` in a migration "
        "with `atomic = False` (RunSQL `DROP INDEX CONCURRENTLY IF EXISTS …` for raw SQL)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind == "DROP INDEX" and not f.concurrently:
            drop = f.detail(DropDetail)
            names = ", ".join(drop.objects if drop else ())
            yield Hit(
                message=f"DROP INDEX {names} without CONCURRENTLY takes ACCESS EXCLUSIVE on its "
                "table: the running release's reads and writes on it wait, behind any long "
                "query.",
                lock=AE,
            )


@register
class ReindexNotConcurrently(Rule):
    kinds = frozenset({"REINDEX"})
    id = "reindex-not-concurrently"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "REINDEX without CONCURRENTLY blocks the table while indexes are rebuilt."
    why = (
        "REINDEX locks out writes on the table and takes ACCESS EXCLUSIVE on each index it "
        "rebuilds, so queries using it wait for the whole rebuild (sql-reindex.html)."
    )
    safe_alternative = (
        "Use `REINDEX … CONCURRENTLY` (PostgreSQL 12+) in a RunSQL of a migration with "
        "`atomic = False`."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind == "REINDEX" and not f.concurrently:
            reindex = f.detail(ReindexDetail)
            what = f"{reindex.target} {reindex.name or ''}".strip() if reindex else ""
            yield Hit(
                message=f"REINDEX {what} without CONCURRENTLY takes ACCESS EXCLUSIVE on each "
                "index it rebuilds and blocks writes to its table: the running release's "
                "queries using them wait for the whole rebuild.",
                lock=AE,
                scans=True,
            )


@register
class IndexAfterAlterInTransaction(Rule):
    kinds = frozenset({"CREATE INDEX"})
    id = "index-after-exclusive-lock"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "An index is built while the same transaction holds ACCESS EXCLUSIVE on the table."
    why = (
        "Locks are held until the transaction commits: after an ALTER TABLE took ACCESS "
        "EXCLUSIVE, the CREATE INDEX that follows in the same transaction builds (a full "
        "scan) while reads and writes are blocked."
    )
    safe_alternative = (
        "Move the index to its own migration with `atomic = False` and "
        "`AddIndexConcurrently` (for a field: `db_index=False` on AddField, then the index)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind != "CREATE INDEX" or not ctx.in_transaction:
            return
        table = target(f)
        for earlier in ctx.previous_in_transaction:
            if earlier.kind == "CREATE TABLE":
                continue
            for lock in earlier.locks:
                if lock.lock is AE and lock.table == table:
                    yield Hit(
                        message=f"CREATE INDEX on {table} runs after {earlier.kind} "
                        f"({', '.join(earlier.actions) or earlier.kind}) took ACCESS EXCLUSIVE in "
                        "the same transaction: the running release's reads and writes on "
                        f"{table} wait for the whole build.",
                        table=table,
                        lock=AE,
                        scans=True,
                    )
                    return


@register
class ValidateInSameTransaction(Rule):
    needs_actions = frozenset({"VALIDATE CONSTRAINT"})
    kinds = frozenset({"ALTER TABLE"})
    id = "validate-in-same-transaction"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "VALIDATE CONSTRAINT runs in the same transaction as its ADD … NOT VALID."
    why = (
        "NOT VALID only helps when the validation commits separately: in the same "
        "transaction, the ACCESS EXCLUSIVE (CHECK) or SHARE ROW EXCLUSIVE (FOREIGN KEY) lock "
        "of the ADD is still held while VALIDATE scans the whole table."
    )
    safe_alternative = (
        "Put `ALTER TABLE … VALIDATE CONSTRAINT …` in a separate, later migration (RunSQL "
        "with `reverse_sql=migrations.RunSQL.noop`)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if not ctx.in_transaction:
            return
        for cmd in commands(f, "VALIDATE CONSTRAINT"):
            name = cmd.constraint_name
            for earlier in ctx.previous_in_transaction:
                for added in commands(earlier):
                    con = added.constraint
                    if con is not None and con.name == name and con.not_valid:
                        held = max(
                            (lk.lock for lk in earlier.locks), key=lambda lk: lk.rank, default=AE
                        )
                        yield Hit(
                            message=f"VALIDATE CONSTRAINT {name} on {target(f)} runs in the "
                            f"same transaction as its ADD … NOT VALID, so the ADD's {held.value} "
                            "is held during the whole scan and the running release's "
                            f"{'queries' if held.blocks_reads else 'writes'} wait.",
                            table=target(f),
                            lock=held,
                            scans=True,
                        )


@register
class AddColumnVolatileDefault(Rule):
    needs_actions = frozenset({"ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-column-volatile-default"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "ADD COLUMN with a volatile default rewrites the whole table under ACCESS EXCLUSIVE."
    why = (
        "PostgreSQL 11+ stores a non-volatile default in the catalog without touching rows, "
        "but a volatile one (clock_timestamp(), random(), gen_random_uuid(), nextval(), an "
        "unknown function) is computed per row: the table and its indexes are rewritten "
        "while reads and writes wait. Before PostgreSQL 11 any default rewrites."
    )
    safe_alternative = (
        "1. AddField with `null=True` and no default (or a constant `db_default`). "
        "2. Backfill in batches in a separate data migration. 3. Set the default for new "
        "rows (AlterField with `db_default`, or the default in Python)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "ADD COLUMN"):
            col = cmd.column
            if col is None or not (cmd.rewrites and col.has_default):
                continue
            if col.serial or col.identity or col.generated == "STORED":
                continue  # add-column-generated-identity
            why = (
                f"volatile default {col.default}"
                if col.default_volatile
                else f"default {col.default} (PostgreSQL < 11 rewrites for any default)"
            )
            yield Hit(
                message=f"Adding column {col.name} to {target(ctx.facts)} with a {why} "
                "rewrites the table under ACCESS EXCLUSIVE: the running release's reads and "
                "writes wait for the whole rewrite.",
                table=target(ctx.facts),
                lock=AE,
                rewrites=True,
            )


@register
class AddColumnGeneratedIdentity(Rule):
    needs_actions = frozenset({"ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-column-generated-identity"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "Adding a stored generated, identity or serial column rewrites the table."
    why = (
        "Every existing row gets a computed value (the generation expression, the identity "
        "sequence or serial's nextval()), so the table and its indexes are rewritten under "
        "ACCESS EXCLUSIVE."
    )
    safe_alternative = (
        "Add a plain nullable column, backfill it in batches (from the expression or a "
        "sequence), then attach the default / identity (`ALTER COLUMN … ADD GENERATED … AS "
        "IDENTITY` does not rewrite) — or compute the value in the application."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "ADD COLUMN"):
            col = cmd.column
            if col is None:
                continue
            what = (
                "serial"
                if col.serial
                else "identity"
                if col.identity
                else "stored generated"
                if col.generated == "STORED"
                else None
            )
            if what:
                yield Hit(
                    message=f"Adding {what} column {col.name} to {target(ctx.facts)} "
                    "rewrites the table under ACCESS EXCLUSIVE: the running release's reads "
                    "and writes wait for the whole rewrite.",
                    table=target(ctx.facts),
                    lock=AE,
                    rewrites=True,
                )


@register
class AddPrimaryKeyWithoutIndex(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT PRIMARY KEY"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-primary-key-without-index"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "ADD PRIMARY KEY builds its index (and checks NOT NULL) under ACCESS EXCLUSIVE."
    why = (
        "Without USING INDEX, PostgreSQL builds the unique index while holding ACCESS "
        "EXCLUSIVE, and sets NOT NULL on the columns (another scan)."
    )
    safe_alternative = (
        "1. `CREATE UNIQUE INDEX CONCURRENTLY` (AddIndexConcurrently, `atomic = False`). "
        "2. Make the columns NOT NULL safely (CHECK … NOT VALID, VALIDATE, SET NOT NULL). "
        "3. `ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …` (RunSQL inside "
        "SeparateDatabaseAndState)."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "ADD CONSTRAINT PRIMARY KEY"):
            if not (cmd.constraint and cmd.constraint.using_index):
                yield Hit(
                    message=f"PRIMARY KEY on {target(ctx.facts)} is built under ACCESS "
                    "EXCLUSIVE: the running release's reads and writes wait for the whole "
                    "index build.",
                    table=target(ctx.facts),
                    lock=AE,
                    scans=True,
                )


@register
class AddUniqueConstraint(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT UNIQUE", "ADD COLUMN"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-unique-constraint"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "A UNIQUE constraint (unique=True, unique_together) builds its index under ACCESS EXCLUSIVE."
    why = (
        "ADD CONSTRAINT … UNIQUE without USING INDEX builds a unique index while holding "
        "ACCESS EXCLUSIVE: reads and writes wait for the whole build, and it fails if "
        "existing rows are duplicated."
    )
    safe_alternative = (
        "1. AddIndexConcurrently with a unique index (`UniqueConstraint` cannot be concurrent: "
        "use RunSQL `CREATE UNIQUE INDEX CONCURRENTLY`) in a migration with `atomic = False`. "
        "2. `ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …` in SeparateDatabaseAndState "
        "with the AddConstraint / AlterField as state operation."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "ADD CONSTRAINT UNIQUE"):
            con = cmd.constraint
            if con is not None and not con.using_index:
                cols = ", ".join(c for c in con.columns if c)
                yield Hit(
                    message=f"UNIQUE ({cols}) on {target(ctx.facts)} builds its index under "
                    "ACCESS EXCLUSIVE: the running release's reads and writes wait for the "
                    "whole build, which fails on duplicated rows.",
                    table=target(ctx.facts),
                    lock=AE,
                    scans=True,
                )
        for cmd in commands(ctx.facts, "ADD COLUMN"):
            col = cmd.column
            if col is not None and (col.unique or col.primary_key):
                yield Hit(
                    message=f"Column {col.name} is added to {target(ctx.facts)} with an "
                    "inline UNIQUE/PRIMARY KEY: the index is built under ACCESS EXCLUSIVE while "
                    "the running release's reads and writes wait.",
                    table=target(ctx.facts),
                    lock=AE,
                    scans=True,
                )


@register
class ExcludeConstraint(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT EXCLUDE"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-exclusion-constraint"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "An EXCLUDE constraint builds its index and checks every row under ACCESS EXCLUSIVE."
    why = (
        "ADD CONSTRAINT … EXCLUDE cannot be NOT VALID nor use an existing index: the whole "
        "table is indexed and checked while reads and writes wait."
    )
    safe_alternative = (
        "Add it while the table is small or empty, or in a maintenance window with an "
        "approved plan; there is no online alternative in PostgreSQL."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if "ADD CONSTRAINT EXCLUDE" in ctx.facts.actions:
            yield Hit(
                message=f"EXCLUDE constraint on {target(ctx.facts)} builds its index and checks "
                "every row under ACCESS EXCLUSIVE: the running release's reads and writes wait "
                "for the whole build.",
                lock=AE,
                scans=True,
            )


class _RewriteAction(Rule):
    kinds = frozenset({"ALTER TABLE"})
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    actions: tuple[str, ...] = ()

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for action in self.actions:
            if action in ctx.facts.actions:
                yield Hit(
                    message=f"{action} on {target(ctx.facts)} rewrites it under ACCESS "
                    "EXCLUSIVE: the running release's reads and writes wait for the whole copy.",
                    table=target(ctx.facts),
                    lock=AE,
                    rewrites=True,
                )


@register
class SetTablespace(_RewriteAction):
    needs_actions = frozenset({"SET TABLESPACE"})
    id = "set-tablespace"
    actions = ("SET TABLESPACE",)
    summary = "SET TABLESPACE copies the whole table under ACCESS EXCLUSIVE."
    why = "The table's files are copied to the new tablespace while reads and writes wait."
    safe_alternative = (
        "Use pg_repack (`--tablespace`) or logical replication into a new table; never "
        "in a regular migration."
    )


@register
class SetLoggedUnlogged(_RewriteAction):
    needs_actions = frozenset({"SET LOGGED", "SET UNLOGGED"})
    id = "set-logged-unlogged"
    actions = ("SET LOGGED", "SET UNLOGGED")
    summary = "SET LOGGED / UNLOGGED rewrites the whole table under ACCESS EXCLUSIVE."
    why = "Changing persistence writes a new copy of the table (and WAL for all of it when LOGGED)."
    safe_alternative = (
        "Create the table with the right persistence from the start; for an existing large "
        "table plan a maintenance window."
    )


@register
class SetExpression(_RewriteAction):
    needs_actions = frozenset({"SET EXPRESSION"})
    id = "set-expression"
    actions = ("SET EXPRESSION",)
    summary = "ALTER COLUMN … SET EXPRESSION rewrites the whole table under ACCESS EXCLUSIVE."
    why = (
        "Changing a stored generated column's expression (PostgreSQL 17+) recomputes it for "
        "every row: the table is rewritten while reads and writes wait."
    )
    safe_alternative = (
        "Add a new generated column with the new expression (AddField with GeneratedField "
        "rewrites too: do it while the table is small), or a plain column filled by a "
        "trigger and backfilled in batches; switch the code; drop the old column later."
    )


@register
class SetAccessMethod(_RewriteAction):
    needs_actions = frozenset({"SET ACCESS METHOD"})
    id = "set-access-method"
    actions = ("SET ACCESS METHOD",)
    summary = "SET ACCESS METHOD rewrites the whole table under ACCESS EXCLUSIVE."
    why = "The table is copied into the new table access method while reads and writes wait."
    safe_alternative = (
        "Create a new table with the access method and move the data with logical "
        "replication or batched copies; never in a regular migration."
    )


@register
class VacuumFull(Rule):
    kinds = frozenset({"VACUUM"})
    id = "vacuum-full"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE."
    why = "VACUUM FULL writes a compacted copy of the table while reads and writes wait (sql-vacuum.html)."
    safe_alternative = "Use pg_repack / pg_squeeze, or plain VACUUM; never in a migration."

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        vacuum = ctx.facts.detail(VacuumDetail)
        if vacuum is not None and vacuum.full:
            yield Hit(
                message=f"VACUUM FULL {', '.join(ctx.facts.tables) or '(every table)'} rewrites "
                "it under ACCESS EXCLUSIVE: the running release's reads and writes wait for the "
                "whole copy.",
                lock=AE,
                rewrites=True,
            )


@register
class Cluster(Rule):
    kinds = frozenset({"CLUSTER"})
    id = "cluster"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE."
    why = "CLUSTER copies the whole table while reads and writes wait (sql-cluster.html)."
    safe_alternative = "Use pg_repack (`--order-by`); never in a migration."

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.facts.kind == "CLUSTER":
            yield Hit(
                message=f"CLUSTER {', '.join(ctx.facts.tables) or '(every clustered table)'} "
                "rewrites it under ACCESS EXCLUSIVE: the running release's reads and writes "
                "wait for the whole copy.",
                lock=AE,
                rewrites=True,
            )


@register
class DetachPartitionNotConcurrently(Rule):
    needs_actions = frozenset({"DETACH PARTITION"})
    kinds = frozenset({"ALTER TABLE"})
    id = "detach-partition-not-concurrently"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = (
        "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table."
    )
    why = (
        "Plain DETACH PARTITION blocks every query on the whole partitioned table; with "
        "CONCURRENTLY (PostgreSQL 14+) the parent only gets SHARE UPDATE EXCLUSIVE."
    )
    safe_alternative = (
        "`ALTER TABLE … DETACH PARTITION … CONCURRENTLY` in a RunSQL of a migration with "
        "`atomic = False`."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "DETACH PARTITION"):
            if not cmd.concurrently:
                yield Hit(
                    message=f"DETACH PARTITION {cmd.partition} from {target(ctx.facts)} "
                    "without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table: the "
                    "running release's queries on every partition wait.",
                    table=target(ctx.facts),
                    lock=AE,
                )


@register
class AccessExclusiveWithoutTimeout(Rule):
    id = "lock-timeout-missing"
    severity = Severity.WARNING
    category = "locks"
    scope = "sql"
    locking = True
    # Opt-in: on by default it would flag nearly every safe migration (set the timeout
    # for the migrating role instead, or enable the rule to require it per migration).
    opt_in = True
    summary = (
        "A lock that blocks writes (SHARE or stronger) is requested with no lock_timeout / "
        "statement_timeout in force."
    )
    why = (
        "A statement waiting for its lock behind any long-running transaction makes every "
        "later conflicting query wait behind it: a queued ACCESS EXCLUSIVE stops reads and "
        "writes, a queued SHARE (plain CREATE INDEX) or SHARE ROW EXCLUSIVE (FOREIGN KEY, "
        "trigger) stops every INSERT, UPDATE and DELETE. Without lock_timeout a brief ALTER "
        "can take the site down; RESET lock_timeout turns the protection off again."
    )
    safe_alternative = (
        "Start the migration with `migrations.RunSQL(\"SET lock_timeout = '5s'\", "
        "reverse_sql=migrations.RunSQL.noop)` (or set it for the migrating role) and retry "
        "on timeout."
    )

    def __init__(self) -> None:
        self._reported: set[int] = set()

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if ctx.timeout_set or f.lock is None or not f.lock.blocks_writes:
            return
        # once per migration / file: the fix is one SET at its start
        key = id(ctx.migration) if ctx.migration is not None else -1
        if key in self._reported:
            return
        blocking = [t for t in f.locks if t.lock.blocks_writes and not ctx.is_new(t.table)]
        if blocking:
            self._reported.add(key)
            strongest = max((t.lock for t in blocking), key=lambda lk: lk.rank)
            tables = ", ".join(dict.fromkeys(t.table for t in blocking))
            stops = "query" if strongest.blocks_reads else "write"
            yield Hit(
                message=f"{f.kind} waits for {strongest.value} on {tables} with no "
                f"lock_timeout set: while it waits behind a long transaction, every {stops} "
                f"of the running release on {tables} queues behind it.",
                table=blocking[0].table,
                lock=strongest,
            )
