"""SQL facts from pglast: statement kinds, locks, rewrites, scans, transactionality.

Each case in CASES is paired with its opposite (with/without CONCURRENTLY, NOT VALID,
volatile/stable default, PostgreSQL 10 vs 11 …) so a fact that is always True or always
False cannot pass.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbgov.analysis.details import (
    AlterCommand,
    AlterTableDetail,
    ColumnDef,
    CommentDetail,
    CreateTableDetail,
    DmlDetail,
    DropDetail,
    EnumDetail,
    ParseErrorDetail,
    SetConstraintsDetail,
    SetDetail,
)
from dbgov.analysis.model import LockLevel, StatementFacts
from dbgov.analysis.sql import analyse_statement, split_and_analyse

AE = "ACCESS EXCLUSIVE"
SUE = "SHARE UPDATE EXCLUSIVE"
SRE = "SHARE ROW EXCLUSIVE"
SHARE = "SHARE"
RE = "ROW EXCLUSIVE"


def _locks(facts: StatementFacts) -> dict[str, tuple[str, bool, bool]]:
    return {t.table: (t.lock.value, t.rewrites, t.scans) for t in facts.locks}


# (sql, pg_version, kind, actions, {table: (lock, rewrites, scans)}, transactional)
CASES: list[
    tuple[str, int | None, str, tuple[str, ...], dict[str, tuple[str, bool, bool]], bool]
] = [
    # ADD COLUMN: nullable / stable default → no rewrite; volatile default → rewrite
    (
        'ALTER TABLE "t" ADD COLUMN "c" text NULL',
        None,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()",
        None,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp()",
        None,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, True, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c float DEFAULT random()",
        15,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, True, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid()",
        15,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, True, True)},
        True,
    ),
    # PG 10 rewrites for any default, PG 11 not for a constant
    (
        "ALTER TABLE t ADD COLUMN c int DEFAULT 0 NOT NULL",
        10,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, True, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c int DEFAULT 0 NOT NULL",
        11,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c int DEFAULT 0 NOT NULL",
        110005,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, False, False)},
        True,
    ),
    # NOT NULL without default: fails on a table with rows (fails_if_rows); nothing is
    # read (the oracle: PostgreSQL errors before reading)
    (
        "ALTER TABLE t ADD COLUMN c int NOT NULL",
        None,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, False, False)},
        True,
    ),
    # serial / identity / stored generated rewrite; virtual generated does not
    (
        "ALTER TABLE t ADD COLUMN c bigserial",
        None,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, True, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY",
        None,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, True, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a * 2) STORED",
        None,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, True, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a * 2) VIRTUAL",
        None,
        "ALTER TABLE",
        ("ADD COLUMN",),
        {"t": (AE, False, False)},
        True,
    ),
    # SET / DROP NOT NULL, defaults
    (
        'ALTER TABLE "t" ALTER COLUMN "c" SET NOT NULL',
        None,
        "ALTER TABLE",
        ("SET NOT NULL",),
        {"t": (AE, False, True)},
        True,
    ),
    (
        'ALTER TABLE "t" ALTER COLUMN "c" DROP NOT NULL',
        None,
        "ALTER TABLE",
        ("DROP NOT NULL",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t ALTER COLUMN c SET DEFAULT 'x'",
        None,
        "ALTER TABLE",
        ("SET DEFAULT",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT",
        None,
        "ALTER TABLE",
        ("DROP DEFAULT",),
        {"t": (AE, False, False)},
        True,
    ),
    # type change
    (
        'ALTER TABLE "t" ALTER COLUMN "q" TYPE bigint USING "q"::bigint',
        None,
        "ALTER TABLE",
        ("ALTER COLUMN TYPE",),
        {"t": (AE, True, True)},
        True,
    ),
    # foreign keys: SHARE ROW EXCLUSIVE on both tables; scan unless NOT VALID
    (
        "ALTER TABLE a ADD CONSTRAINT fk FOREIGN KEY (b_id) REFERENCES b (id)",
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT FOREIGN KEY",),
        {"a": (SRE, False, True), "b": (SRE, False, False)},
        True,
    ),
    (
        "ALTER TABLE a ADD CONSTRAINT fk FOREIGN KEY (b_id) REFERENCES b (id) NOT VALID",
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT FOREIGN KEY",),
        {"a": (SRE, False, False), "b": (SRE, False, False)},
        True,
    ),
    (
        "ALTER TABLE a VALIDATE CONSTRAINT fk",
        None,
        "ALTER TABLE",
        ("VALIDATE CONSTRAINT",),
        {"a": (SUE, False, True)},
        True,
    ),
    # CHECK: ACCESS EXCLUSIVE, scan unless NOT VALID
    (
        "ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0)",
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT CHECK",),
        {"t": (AE, False, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0) NOT VALID",
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT CHECK",),
        {"t": (AE, False, False)},
        True,
    ),
    # UNIQUE / PRIMARY KEY: index build unless USING INDEX
    (
        'ALTER TABLE "t" ADD CONSTRAINT "u" UNIQUE ("a", "b")',
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT UNIQUE",),
        {"t": (AE, False, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_a_idx",
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT UNIQUE",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t ADD PRIMARY KEY (id)",
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT PRIMARY KEY",),
        {"t": (AE, False, True)},
        True,
    ),
    (
        "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx",
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT PRIMARY KEY",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE r ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&)",
        None,
        "ALTER TABLE",
        ("ADD CONSTRAINT EXCLUDE",),
        {"r": (AE, False, True)},
        True,
    ),
    # several subcommands: the strongest lock
    (
        "ALTER TABLE t ALTER COLUMN c SET STATISTICS 500",
        None,
        "ALTER TABLE",
        ("SET STATISTICS",),
        {"t": (SUE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t ALTER COLUMN c SET STATISTICS 500, ALTER COLUMN d DROP NOT NULL",
        None,
        "ALTER TABLE",
        ("SET STATISTICS", "DROP NOT NULL"),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t SET (fillfactor = 70, autovacuum_enabled = false)",
        None,
        "ALTER TABLE",
        ("SET STORAGE PARAMETERS",),
        {"t": (SUE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t SET (parallel_workers = 2, toast.autovacuum_enabled = false)",
        None,
        "ALTER TABLE",
        ("SET STORAGE PARAMETERS",),
        {"t": (SUE, False, False)},
        True,
    ),
    # issue 10: user_catalog_table takes ACCESS EXCLUSIVE (the oracle observes it)
    (
        "ALTER TABLE t SET (parallel_workers = 2, user_catalog_table = true)",
        None,
        "ALTER TABLE",
        ("SET STORAGE PARAMETERS",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t SET (autovacuum_enabled = false, security_barrier = true)",
        None,
        "ALTER TABLE",
        ("SET STORAGE PARAMETERS",),
        {"t": (AE, False, False)},
        True,
    ),
    # rewrites
    (
        "ALTER TABLE t SET TABLESPACE fast",
        None,
        "ALTER TABLE",
        ("SET TABLESPACE",),
        {"t": (AE, True, False)},
        True,
    ),
    (
        "ALTER TABLE t SET LOGGED",
        None,
        "ALTER TABLE",
        ("SET LOGGED",),
        {"t": (AE, True, False)},
        True,
    ),
    (
        "ALTER TABLE t SET UNLOGGED",
        None,
        "ALTER TABLE",
        ("SET UNLOGGED",),
        {"t": (AE, True, False)},
        True,
    ),
    (
        'ALTER TABLE "t" DROP COLUMN "c" CASCADE',
        None,
        "ALTER TABLE",
        ("DROP COLUMN",),
        {"t": (AE, False, False)},
        True,
    ),
    # renames
    (
        'ALTER TABLE "t" RENAME COLUMN "a" TO "b"',
        None,
        "ALTER TABLE",
        ("RENAME COLUMN",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        'ALTER TABLE "t" RENAME TO "u"',
        None,
        "ALTER TABLE",
        ("RENAME TABLE",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t RENAME CONSTRAINT a TO b",
        None,
        "ALTER TABLE",
        ("RENAME CONSTRAINT",),
        {"t": (AE, False, False)},
        True,
    ),
    (
        "ALTER INDEX i RENAME TO j",
        12,
        "ALTER INDEX",
        ("RENAME INDEX",),
        {"i": (SUE, False, False)},
        True,
    ),
    (
        "ALTER INDEX i RENAME TO j",
        11,
        "ALTER INDEX",
        ("RENAME INDEX",),
        {"i": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE t SET SCHEMA archive",
        None,
        "ALTER TABLE",
        ("SET SCHEMA",),
        {"t": (AE, False, False)},
        True,
    ),
    # partitions
    (
        "ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1)",
        None,
        "ALTER TABLE",
        ("ATTACH PARTITION",),
        {"p": (SUE, False, False), "p1": (AE, False, True)},
        True,
    ),
    (
        "ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1)",
        11,
        "ALTER TABLE",
        ("ATTACH PARTITION",),
        {"p": (AE, False, False), "p1": (AE, False, True)},
        True,
    ),
    (
        "ALTER TABLE p DETACH PARTITION p1",
        None,
        "ALTER TABLE",
        ("DETACH PARTITION",),
        {"p": (AE, False, False), "p1": (AE, False, False)},
        True,
    ),
    (
        "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
        None,
        "ALTER TABLE",
        ("DETACH PARTITION",),
        {"p": (SUE, False, False), "p1": (AE, False, False)},
        False,
    ),
    (
        "CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2)",
        None,
        "CREATE TABLE",
        (),
        {"p": (AE, False, False)},
        True,
    ),
    # indexes
    ('CREATE INDEX "i" ON "t" ("c")', None, "CREATE INDEX", (), {"t": (SHARE, False, True)}, True),
    (
        'CREATE INDEX CONCURRENTLY "i" ON "t" ("c")',
        None,
        "CREATE INDEX",
        (),
        {"t": (SUE, False, True)},
        False,
    ),
    (
        "CREATE UNIQUE INDEX i ON s.t (c) WHERE d IS NULL",
        None,
        "CREATE INDEX",
        (),
        {"s.t": (SHARE, False, True)},
        True,
    ),
    ('DROP INDEX IF EXISTS "i"', None, "DROP INDEX", (), {"i": (AE, False, False)}, True),
    (
        'DROP INDEX CONCURRENTLY IF EXISTS "i"',
        None,
        "DROP INDEX",
        (),
        {"i": (SUE, False, False)},
        False,
    ),
    ("REINDEX INDEX i", None, "REINDEX", (), {"i": ("SHARE", False, True)}, True),
    ("REINDEX INDEX CONCURRENTLY i", None, "REINDEX", (), {"i": (SUE, False, True)}, False),
    ("REINDEX TABLE t", None, "REINDEX", (), {"t": ("SHARE", False, True)}, True),
    ("REINDEX DATABASE d", None, "REINDEX", (), {}, False),
    # table-wide statements
    (
        'DROP TABLE "a", "b" CASCADE',
        None,
        "DROP TABLE",
        (),
        {"a": (AE, False, False), "b": (AE, False, False)},
        True,
    ),
    ("TRUNCATE a", None, "TRUNCATE", (), {"a": (AE, False, False)}, True),
    ("TRUNCATE a CASCADE", None, "TRUNCATE", ("CASCADE",), {"a": (AE, False, False)}, True),
    ("VACUUM t", None, "VACUUM", (), {"t": (SUE, False, True)}, False),
    ("VACUUM (FULL) t", None, "VACUUM", ("FULL",), {"t": (AE, True, True)}, False),
    ("VACUUM FULL t", None, "VACUUM", ("FULL",), {"t": (AE, True, True)}, False),
    ("ANALYZE t", None, "ANALYZE", (), {"t": (SUE, False, False)}, True),
    ("CLUSTER t USING t_pkey", None, "CLUSTER", (), {"t": (AE, True, True)}, True),
    ("CLUSTER", None, "CLUSTER", (), {}, False),
    (
        'COMMENT ON COLUMN "t"."c" IS \'PII: email\'',
        None,
        "COMMENT",
        (),
        {"t": (SUE, False, False)},
        True,
    ),
    ('COMMENT ON TABLE "s"."t" IS NULL', None, "COMMENT", (), {"s.t": (SUE, False, False)}, True),
    (
        "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()",
        None,
        "CREATE TRIGGER",
        (),
        {"t": (SRE, False, False)},
        True,
    ),
    ("DROP TRIGGER tr ON t", None, "DROP TRIGGER", (), {"t": (AE, False, False)}, True),
    ("LOCK TABLE t IN SHARE MODE", None, "LOCK", (), {"t": (SHARE, False, False)}, True),
    ("LOCK TABLE t", None, "LOCK", (), {"t": (AE, False, False)}, True),
    (
        "REFRESH MATERIALIZED VIEW mv",
        None,
        "REFRESH MATERIALIZED VIEW",
        (),
        {"mv": (AE, True, True)},
        True,
    ),
    (
        "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
        None,
        "REFRESH MATERIALIZED VIEW",
        (),
        {"mv": ("EXCLUSIVE", False, True)},
        True,
    ),
    # DML
    (
        'UPDATE "t" SET "c" = \'\' WHERE "c" IS NULL',
        None,
        "UPDATE",
        (),
        {"t": (RE, False, False)},
        True,
    ),
    ("DELETE FROM t", None, "DELETE", (), {"t": (RE, False, False)}, True),
    (
        "INSERT INTO t (a) SELECT a FROM u",
        None,
        "INSERT",
        (),
        {"t": (RE, False, False), "u": ("ACCESS SHARE", False, False)},
        True,
    ),
    ("SELECT * FROM t", None, "SELECT", (), {"t": ("ACCESS SHARE", False, False)}, True),
    ("SELECT * FROM t FOR UPDATE", None, "SELECT", (), {"t": ("ROW SHARE", False, False)}, True),
    # CREATE TABLE: nothing on existing tables except FK targets
    ("CREATE TABLE n (id bigint PRIMARY KEY)", None, "CREATE TABLE", (), {}, True),
    (
        "CREATE TABLE n (id bigint PRIMARY KEY, o_id bigint REFERENCES o (id) ON DELETE CASCADE)",
        None,
        "CREATE TABLE",
        (),
        {"o": (SRE, False, False)},
        True,
    ),
    # transaction control and the rest
    ("BEGIN", None, "BEGIN", (), {}, True),
    ("START TRANSACTION", None, "BEGIN", (), {}, True),
    ("COMMIT", None, "COMMIT", (), {}, True),
    ("END", None, "COMMIT", (), {}, True),
    ("ROLLBACK", None, "ROLLBACK", (), {}, True),
    ("DO $$ BEGIN PERFORM 1; END $$", None, "DO", (), {}, True),
    ("ALTER TYPE mood ADD VALUE 'meh'", 11, "ALTER TYPE", ("ADD VALUE",), {}, False),
    ("ALTER TYPE mood ADD VALUE 'meh'", 12, "ALTER TYPE", ("ADD VALUE",), {}, True),
    ("CREATE DATABASE x", None, "CREATE DATABASE", (), {}, False),
    ("DROP DATABASE x", None, "DROP DATABASE", (), {}, False),
    ("DROP SCHEMA s CASCADE", None, "DROP SCHEMA", (), {"s": (AE, False, False)}, True),
    ("ALTER SYSTEM SET work_mem = '64MB'", None, "ALTER SYSTEM", (), {}, False),
    ("SET CONSTRAINTS ALL IMMEDIATE", None, "SET CONSTRAINTS", (), {}, True),
    ("SET lock_timeout = '2s'", None, "SET", (), {}, True),
    ("CREATE EXTENSION IF NOT EXISTS pg_trgm", None, "CREATE EXTENSION", (), {}, True),
    ("CREATE SEQUENCE s", None, "CREATE SEQUENCE", (), {}, True),
    (
        'ALTER SEQUENCE IF EXISTS "t_id_seq" AS bigint',
        None,
        "ALTER SEQUENCE",
        (),
        {"t_id_seq": (SRE, False, False)},
        True,
    ),
    ('SAVEPOINT "s1"', None, "SAVEPOINT", (), {}, True),
    (
        "CREATE STATISTICS s ON a, b FROM t",
        None,
        "CREATE STATISTICS",
        (),
        {"t": (SUE, False, False)},
        True,
    ),
    ("CREATE FOREIGN TABLE ft (a int) SERVER srv", None, "CREATE FOREIGN TABLE", (), {}, True),
]


@pytest.mark.parametrize(("sql", "pg", "kind", "actions", "locks", "transactional"), CASES)
def test_statement_facts(sql, pg, kind, actions, locks, transactional):
    facts = analyse_statement(sql, pg_version=pg)
    assert facts.parse_error is None
    assert facts.details.analysis_error is None
    assert facts.kind == kind
    assert facts.actions == actions
    assert _locks(facts) == locks
    assert facts.transactional is transactional
    assert facts.sql == sql


def test_cases_prove_both_sides():
    """Every fact the table asserts is True somewhere and False somewhere."""
    assert {c[5] for c in CASES} == {True, False}
    flat = [v for c in CASES for v in c[4].values()]
    assert {v[1] for v in flat} == {True, False}
    assert {v[2] for v in flat} == {True, False}
    assert {v[0] for v in flat} == {lk.value for lk in LockLevel}


@pytest.mark.parametrize(
    ("sql", "concurrently"),
    [
        ('CREATE INDEX CONCURRENTLY "i" ON "t" ("c")', True),
        ('CREATE INDEX "i" ON "t" ("c")', False),
        ("DROP INDEX CONCURRENTLY i", True),
        ("DROP INDEX i", False),
        ("REINDEX TABLE CONCURRENTLY t", True),
        ("REINDEX TABLE t", False),
        ("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", True),
        ("ALTER TABLE p DETACH PARTITION c", False),
    ],
)
def test_concurrently(sql, concurrently):
    assert analyse_statement(sql).concurrently is concurrently


def test_strongest_lock_property():
    facts = analyse_statement("ALTER TABLE a ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES b (id)")
    assert facts.lock is LockLevel.SHARE_ROW_EXCLUSIVE
    assert facts.tables == ("a", "b")
    assert facts.scans and not facts.rewrites
    assert analyse_statement("SELECT 1").lock is None


# --- details ------------------------------------------------------------------------


def _added(sql: str) -> ColumnDef:
    (cmd,) = analyse_statement(sql).detail(AlterTableDetail).commands
    assert cmd.column is not None
    return cmd.column


def _only_command(sql: str) -> AlterCommand:
    (cmd,) = analyse_statement(sql).detail(AlterTableDetail).commands
    return cmd


def test_add_column_details_volatile_vs_stable():
    col = _added(
        'ALTER TABLE "t" ADD COLUMN "at" timestamptz DEFAULT (STATEMENT_TIMESTAMP()) NOT NULL'
    )
    assert col.name == "at"
    assert col.type == "timestamptz"
    assert col.not_null is True
    assert col.has_default is True
    assert col.default == "(STATEMENT_TIMESTAMP())"
    assert col.default_volatility == "stable"
    assert col.default_volatile is False

    volatile = _added("ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid()")
    assert volatile.default_volatility == "volatile"
    assert volatile.default_volatile is True
    assert volatile.not_null is False

    unknown = _added("ALTER TABLE t ADD COLUMN c int DEFAULT my_func()")
    assert unknown.default_volatility == "unknown"
    assert unknown.default_volatile is True  # CREATE FUNCTION's default is VOLATILE

    constant = _added("ALTER TABLE t ADD COLUMN c jsonb DEFAULT '{}'::jsonb NOT NULL")
    assert constant.default_volatility == "immutable"
    assert constant.default == "'{}'::jsonb"


def test_add_column_kinds_of_columns():
    ident = _added("ALTER TABLE t ADD COLUMN i bigint GENERATED BY DEFAULT AS IDENTITY")
    assert ident.identity == "BY DEFAULT" and ident.generated is None and not ident.serial
    gen = _added("ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a + 1) STORED")
    assert gen.generated == "STORED" and gen.identity is None
    ser = _added("ALTER TABLE t ADD COLUMN s serial")
    assert ser.serial and ser.type == "serial"
    plain = _added("ALTER TABLE t ADD COLUMN p numeric(10, 2)")
    assert plain.type == "numeric(10, 2)"
    assert not (plain.serial or plain.identity or plain.generated or plain.has_default)


def test_constraint_details():
    fk = _only_command(
        'ALTER TABLE "shop_order_items" ADD CONSTRAINT "fk1" FOREIGN KEY ("order_id") '
        'REFERENCES "shop_orders" ("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED'
    ).constraint
    assert fk is not None
    assert fk.type == "FOREIGN KEY"
    assert fk.name == "fk1"
    assert fk.columns == ("order_id",)
    assert fk.referenced_table == "shop_orders"
    assert fk.referenced_columns == ("id",)
    assert fk.on_delete == "CASCADE"
    assert fk.deferrable and fk.initially_deferred
    assert fk.not_valid is False

    plain = _only_command(
        "ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES public.b NOT VALID"
    ).constraint
    assert plain is not None
    assert plain.on_delete == "NO ACTION"
    assert plain.referenced_table == "public.b"
    assert plain.not_valid is True
    assert plain.deferrable is False

    pk = _only_command("ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_idx")
    assert pk.constraint is not None and pk.constraint.using_index == "t_idx"
    assert pk.may_scan_for_not_null is True


def test_alter_column_type_details():
    d = _only_command('ALTER TABLE "t" ALTER COLUMN "q" TYPE varchar(50) USING "q"::varchar(50)')
    assert d.column_name == "q"
    assert d.new_type == "varchar(50)"
    assert d.using is True
    assert d.rewrite_unless_binary_coercible is True
    assert _only_command("ALTER TABLE t ALTER c TYPE text").using is False


def test_update_delete_where():
    def dml(sql: str) -> DmlDetail:
        d = analyse_statement(sql).detail(DmlDetail)
        assert d is not None
        return d

    assert dml("UPDATE t SET a = 1").has_where is False
    upd = dml("UPDATE t SET a = 1, a = 2 WHERE id < 100")
    assert upd.has_where is True
    assert upd.columns == ("a", "a")
    assert dml("DELETE FROM t WHERE id = 1").has_where is True
    assert dml("DELETE FROM t").has_where is False


@pytest.mark.parametrize(
    ("sql", "name", "ms", "local"),
    [
        ("SET lock_timeout = '2s'", "lock_timeout", 2000, False),
        ("SET LOCAL statement_timeout TO 5000", "statement_timeout", 5000, True),
        ("SET lock_timeout = '500ms'", "lock_timeout", 500, False),
        ("SET statement_timeout = '1min'", "statement_timeout", 60000, False),
        ("SET lock_timeout = 0", "lock_timeout", 0, False),
    ],
)
def test_set_timeouts(sql, name, ms, local):
    d = analyse_statement(sql).detail(SetDetail)
    assert d is not None
    assert d.name == name
    assert d.value_ms == ms
    assert d.local is local


def test_set_other_and_reset():
    d = analyse_statement("SET search_path TO public, extra").detail(SetDetail)
    assert d is not None and d.name == "search_path" and d.value_ms is None
    assert analyse_statement("RESET lock_timeout").kind == "RESET"
    timeout = analyse_statement("SET lock_timeout TO DEFAULT").detail(SetDetail)
    assert timeout is not None and timeout.value_ms is None


def test_set_constraints_details():
    all_ = analyse_statement("SET CONSTRAINTS ALL IMMEDIATE").details
    assert all_ == SetConstraintsDetail(line=1, constraints=("ALL",), mode="IMMEDIATE")
    named = analyse_statement('SET CONSTRAINTS "fk_a", "s"."fk_b" DEFERRED').details
    assert named == SetConstraintsDetail(line=1, constraints=("fk_a", "s.fk_b"), mode="DEFERRED")


def test_enum_add_value_details():
    plain = analyse_statement("ALTER TYPE mood ADD VALUE 'meh'").details
    assert plain == EnumDetail(line=1, type="mood", value="meh")
    before = analyse_statement("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' BEFORE 'sad'")
    assert before.details == EnumDetail(
        line=1, type="mood", value="meh", before="sad", if_not_exists=True
    )
    after = analyse_statement("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'").detail(EnumDetail)
    assert after is not None and after.after == "ok"


def test_create_table_details():
    facts = analyse_statement(
        'CREATE TABLE "shop_order_items" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, '
        '"quantity" integer NOT NULL CHECK ("quantity" >= 0), "order_id" bigint NOT NULL REFERENCES "shop_orders" ("id") ON DELETE CASCADE, '
        '"created_at" timestamp with time zone NOT NULL, CONSTRAINT "u" UNIQUE ("order_id", "quantity"))'
    )
    d = facts.detail(CreateTableDetail)
    assert d is not None
    assert d.table == "shop_order_items"
    assert [c.name for c in d.columns] == ["id", "quantity", "order_id", "created_at"]
    assert d.columns[0].identity == "BY DEFAULT" and d.columns[0].primary_key
    assert d.columns[3].type == "timestamp with time zone"
    assert [fk.referenced_table for fk in d.foreign_keys] == ["shop_orders"]
    assert d.foreign_keys[0].on_delete == "CASCADE"
    assert {c.type for c in d.constraints} == {"PRIMARY KEY", "FOREIGN KEY", "UNIQUE"}
    assert facts.tables == ("shop_order_items", "shop_orders")


def test_comment_details():
    d = analyse_statement(
        'COMMENT ON COLUMN "shop_orders"."shipping_address" IS \'PII: postal address\''
    ).detail(CommentDetail)
    assert d is not None
    assert d.object_type == "COLUMN"
    assert d.table == "shop_orders" and d.column == "shipping_address"
    assert d.comment == "PII: postal address"


def test_drop_index_names_the_index():
    d = analyse_statement('DROP INDEX CONCURRENTLY IF EXISTS "a", "s"."b"').detail(DropDetail)
    assert d is not None
    assert d.objects == ("a", "s.b")
    assert d.relation_kind == "index"
    assert d.if_exists is True


def test_a_misspelt_detail_is_an_attribute_error_not_a_silent_none():
    facts = analyse_statement("CREATE INDEX i ON t (a)")
    with pytest.raises(AttributeError):
        facts.details.uniqe  # noqa: B018 - the misspelling is the point
    assert facts.detail(DropDetail) is None  # another family: None, said so


def test_pg_version_accepts_major_and_server_version_num():
    sql = "ALTER TABLE t ADD COLUMN c int DEFAULT 1"
    assert analyse_statement(sql, pg_version=100012).rewrites
    assert not analyse_statement(sql, pg_version=150020).rewrites
    assert analyse_statement(sql, pg_version=90624).rewrites


# --- splitting ----------------------------------------------------------------------


def test_split_keeps_original_text_and_comments():
    script = (
        "BEGIN;\n"
        "--\n-- Add field currency to order\n--\n"
        'ALTER TABLE "shop_orders" ADD COLUMN "currency" varchar(3) DEFAULT \'EUR\' NOT NULL; -- dbgov:ignore R1 backfilled\n'
        "/* é unicode */ UPDATE shop_orders SET currency = 'EUR' WHERE currency = 'é';\n"
        "COMMIT;"
    )
    facts = split_and_analyse(script)
    assert [f.kind for f in facts] == ["BEGIN", "ALTER TABLE", "UPDATE", "COMMIT"]
    assert [f.details.line for f in facts] == [1, 5, 6, 7]
    assert (
        facts[1].sql
        == 'ALTER TABLE "shop_orders" ADD COLUMN "currency" varchar(3) DEFAULT \'EUR\' NOT NULL'
    )
    assert facts[2].sql == "UPDATE shop_orders SET currency = 'EUR' WHERE currency = 'é'"
    assert facts[1].details.comments == (
        "--",
        "-- Add field currency to order",
        "--",
        "-- dbgov:ignore R1 backfilled",
    )
    assert facts[2].details.comments == ("/* é unicode */",)
    assert facts[0].details.comments == ()


def test_django_style_combined_statement_splits():
    script = (
        'ALTER TABLE "b" ADD COLUMN "t_id" bigint NULL CONSTRAINT "fk" REFERENCES "a"("id") '
        'DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS "fk" IMMEDIATE'
    )
    alter, set_constraints = split_and_analyse(script)
    assert alter.kind == "ALTER TABLE" and alter.actions == ("ADD COLUMN",)
    assert _locks(alter) == {"b": (AE, False, False), "a": (SRE, False, False)}
    (cmd,) = alter.detail(AlterTableDetail).commands
    assert cmd.constraint is not None and cmd.constraint.referenced_table == "a"
    assert set_constraints.kind == "SET CONSTRAINTS"
    assert set_constraints.details == SetConstraintsDetail(
        line=1, constraints=("fk",), mode="IMMEDIATE"
    )


def test_empty_and_comment_only_scripts():
    assert split_and_analyse("") == []
    assert split_and_analyse("  -- nothing\n/* at all */ ;;") == []
    assert analyse_statement("").kind == "EMPTY"


def test_parse_error_is_one_fact_with_position():
    script = "CREATE INDEX i ON t (a);\nALTER TABLE t ADD COLUMN;\nDROP TABLE u;"
    facts = split_and_analyse(script)
    assert len(facts) == 1
    (err,) = facts
    assert err.parse_error is not None
    assert err.parse_error.startswith('syntax error at or near ";"')
    assert "line 2, column 25" in err.parse_error
    assert err.detail(ParseErrorDetail).error_line == 2
    assert err.sql == script
    assert err.node == "" and err.kind == "" and err.locks == ()
    assert analyse_statement("SELEC 1").parse_error is not None


def test_analyse_statement_with_several_statements_reports_the_first():
    facts = analyse_statement("DROP TABLE a; DROP TABLE b")
    assert facts.tables == ("a",)
    assert facts.details.more_statements == 1
    assert split_and_analyse("DROP TABLE a; DROP TABLE b")[0].details.more_statements == 0


def test_results_are_cached_by_text():
    sql = "ALTER TABLE cached ADD COLUMN c int DEFAULT 1"
    assert analyse_statement(sql) is analyse_statement(sql)
    assert analyse_statement(sql, pg_version=10) is not analyse_statement(sql)
    first, second = split_and_analyse(sql + "; SELECT 1"), split_and_analyse(sql + "; SELECT 1")
    assert first == second and first is not second  # callers get their own list


# --- never raises ---------------------------------------------------------------------

CORPUS = [c[0] for c in CASES] + [
    'CREATE TABLE "shop_products" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "sku" varchar(32) NOT NULL UNIQUE)',
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1) THEN RAISE NOTICE 'x'; END IF; END $$",
    "ALTER TABLE t ADD COLUMN c text DEFAULT 'a;b' NOT NULL; -- c ; d\nSELECT 'x' -- e",
    'SELECT setval(pg_get_serial_sequence(\'"t"\',\'id\'), coalesce(max("id"), 1), max("id") IS NOT null) FROM "t";',
]


def _assert_total(script: str) -> None:
    facts = split_and_analyse(script)
    assert isinstance(facts, list)
    for f in facts:
        assert isinstance(f, StatementFacts)
        assert f.details.analysis_error is None, (script, f.details.analysis_error)
        if f.parse_error is not None:
            assert len(facts) == 1 and f.sql == script


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(
            st.one_of(
                st.text(alphabet="();,'\"$ -*/\\\n0aZé\x00", min_size=1, max_size=3),
                st.sampled_from(
                    [" NOT VALID", " DEFAULT now()", " CONCURRENTLY", "; BEGIN;", "$$", "--"]
                ),
                st.text(max_size=2),
            )
        )
        if op == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + len(chunk) :]
        else:
            text = text[:pos] + chunk + text[pos + len(chunk) :]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(script):
    _assert_total(script)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_sql_never_raises(script):
    _assert_total(script)


@pytest.mark.parametrize(
    "script",
    [
        "\x00",
        "SELECT '\x00'",
        "SELECT " + "(" * 5000 + "1" + ")" * 5000,
        "SELECT '\ud800'",
        "ALTER TABLE t ADD COLUMN c int DEFAULT " + "(" * 3000 + "1" + ")" * 3000,
    ],
)
def test_hostile_inputs_never_raise(script):
    _assert_total(script)


@pytest.mark.parametrize(
    ("sql", "default"),
    [
        ("ALTER TABLE t ADD COLUMN c int DEFAULT 0 NOT NULL", "0"),
        ("ALTER TABLE t ADD COLUMN c text DEFAULT 'a, b' COLLATE \"C\"", "'a, b'"),
        ("ALTER TABLE t ADD COLUMN c text DEFAULT NULL", "NULL"),
        (
            "ALTER TABLE t ADD COLUMN c timestamptz NOT NULL DEFAULT (now() + interval '1 day'), ADD d int",
            "(now() + interval '1 day')",
        ),
        ('ALTER TABLE "té" ADD COLUMN "ç" text DEFAULT \'é\' CHECK (length("ç") > 0)', "'é'"),
        ("CREATE TABLE n (a int DEFAULT 1, b float DEFAULT random())", "1"),
    ],
)
def test_default_expression_text(sql, default):
    facts = analyse_statement(sql)
    alter, create = facts.detail(AlterTableDetail), facts.detail(CreateTableDetail)
    col = alter.commands[0].column if alter else create.columns[0] if create else None
    assert col is not None and col.default == default


def test_default_text_of_a_later_statement_in_a_script():
    script = (
        "SELECT 1;\n-- é\nALTER TABLE t ADD COLUMN a int DEFAULT 42;\n"
        "ALTER TABLE \"é\" ADD COLUMN b uuid DEFAULT gen_random_uuid(), ADD c text DEFAULT 'x';"
    )
    _, first, second = split_and_analyse(script)
    (added,) = first.detail(AlterTableDetail).commands
    assert added.column is not None and added.column.default == "42"
    cols = [c.column.default for c in second.detail(AlterTableDetail).commands if c.column]
    assert cols == ["gen_random_uuid()", "'x'"]
