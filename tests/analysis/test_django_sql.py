"""Every statement Django's PostgreSQL schema editor really executes parses and gets
the right facts.

The operations in ``django_sql.py`` are applied to the test database (rolled back
afterwards) and the SQL Django sends is captured, so this follows whatever the
installed Django version emits rather than a copy of it.
"""

from __future__ import annotations

import pytest

from dbgov.analysis.details import (
    AlterCommand,
    AlterTableDetail,
    CommentDetail,
    CreateTableDetail,
    DmlDetail,
    IndexDetail,
    SetDetail,
)
from dbgov.analysis.model import StatementFacts
from dbgov.analysis.sql import split_and_analyse

from . import django_sql

AE = "ACCESS EXCLUSIVE"
SRE = "SHARE ROW EXCLUSIVE"
SUE = "SHARE UPDATE EXCLUSIVE"


@pytest.fixture(scope="module")
def captured(django_db_setup, django_db_blocker):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        out, state = django_sql.capture(django_sql.operations())
        out.update(django_sql.collect_concurrent(state))
        transaction.set_rollback(True)
    return out


def _ddl(captured: dict[str, list[str]], label: str) -> list:
    """The facts of the statements of one operation, without savepoints and the
    schema editor's introspection queries."""
    facts = [f for sql in captured[label] for f in split_and_analyse(sql)]
    return [f for f in facts if f.kind not in ("SAVEPOINT", "RELEASE SAVEPOINT", "SELECT")]


def _summary(facts) -> list[tuple[str, tuple[str, ...], dict[str, tuple[str, bool, bool]], bool]]:
    return [
        (
            f.kind,
            f.actions,
            {t.table: (t.lock.value, t.rewrites, t.scans) for t in f.locks},
            f.transactional,
        )
        for f in facts
    ]


def test_every_captured_statement_parses(captured):
    total = 0
    for label, statements in captured.items():
        for sql in statements:
            for f in split_and_analyse(sql):
                total += 1
                assert f.parse_error is None, (label, sql, f.parse_error)
                assert f.details.analysis_error is None, (label, sql, f.details)
                assert f.kind, (label, sql)
    assert total > 60


B = "dbgovsqlt_book"
A = "dbgovsqlt_author"

EXPECTED = {
    "create_author": [
        ("CREATE TABLE", (), {}, True),
        ("COMMENT", (), {A: (SUE, False, False)}, True),
        ("CREATE INDEX", (), {A: ("SHARE", False, True)}, True),
    ],
    "create_book": [
        ("CREATE TABLE", (), {}, True),
        ("COMMENT", (), {B: (SUE, False, False)}, True),
        (
            "ALTER TABLE",
            ("ADD CONSTRAINT FOREIGN KEY",),
            {B: (SRE, False, True), A: (SRE, False, False)},
            True,
        ),
        (
            "ALTER TABLE",
            ("ADD CONSTRAINT FOREIGN KEY",),
            {B: (SRE, False, True), A: (SRE, False, False)},
            True,
        ),
        ("CREATE INDEX", (), {B: ("SHARE", False, True)}, True),
        ("CREATE INDEX", (), {B: ("SHARE", False, True)}, True),
    ],
    "add_nullable": [("ALTER TABLE", ("ADD COLUMN",), {B: (AE, False, False)}, True)],
    "add_with_default": [
        ("ALTER TABLE", ("ADD COLUMN",), {B: (AE, False, False)}, True),
        ("ALTER TABLE", ("DROP DEFAULT",), {B: (AE, False, False)}, True),
    ],
    "add_db_default": [("ALTER TABLE", ("ADD COLUMN",), {B: (AE, False, False)}, True)],
    "add_db_default_now": [("ALTER TABLE", ("ADD COLUMN",), {B: (AE, False, False)}, True)],
    "add_fk": [
        ("ALTER TABLE", ("ADD COLUMN",), {B: (AE, False, False), A: (SRE, False, False)}, True),
        ("SET CONSTRAINTS", (), {}, True),
        ("CREATE INDEX", (), {B: ("SHARE", False, True)}, True),
    ],
    "add_generated": [("ALTER TABLE", ("ADD COLUMN",), {B: (AE, True, True)}, True)],
    "alter_null_to_not_null": [
        ("ALTER TABLE", ("SET DEFAULT",), {B: (AE, False, False)}, True),
        ("UPDATE", (), {B: ("ROW EXCLUSIVE", False, False)}, True),
        ("SET CONSTRAINTS", (), {}, True),
        ("ALTER TABLE", ("SET NOT NULL",), {B: (AE, False, True)}, True),
        ("ALTER TABLE", ("DROP DEFAULT",), {B: (AE, False, False)}, True),
    ],
    # without the schema the old type is unknown: a rewrite is assumed (the plan engine
    # passes the old type, see test_facts.py)
    "alter_varchar_widen": [("ALTER TABLE", ("ALTER COLUMN TYPE",), {B: (AE, True, True)}, True)],
    "rename_field": [("ALTER TABLE", ("RENAME COLUMN",), {B: (AE, False, False)}, True)],
    "alter_unique_together": [
        ("ALTER TABLE", ("ADD CONSTRAINT UNIQUE",), {B: (AE, False, True)}, True)
    ],
    "remove_unique_together": [
        ("ALTER TABLE", ("DROP CONSTRAINT",), {B: (AE, False, False)}, True)
    ],
    "add_index": [("CREATE INDEX", (), {B: ("SHARE", False, True)}, True)],
    "remove_index": [("DROP INDEX", (), {"book_title_idx": (AE, False, False)}, True)],
    "add_check": [("ALTER TABLE", ("ADD CONSTRAINT CHECK",), {B: (AE, False, True)}, True)],
    "add_partial_unique": [("CREATE INDEX", (), {B: ("SHARE", False, True)}, True)],
    "alter_table_comment": [("COMMENT", (), {A: (SUE, False, False)}, True)],
    "remove_field": [("ALTER TABLE", ("DROP COLUMN",), {B: (AE, False, False)}, True)],
    "rename_model": [
        ("ALTER TABLE", ("RENAME TABLE",), {"dbgovsqlt_shelf": (AE, False, False)}, True),
        ("ALTER TABLE", ("RENAME TABLE",), {"dbgovsqlt_shelf_books": (AE, False, False)}, True),
        ("SET CONSTRAINTS", (), {}, True),
        (
            "ALTER TABLE",
            ("DROP CONSTRAINT",),
            {"dbgovsqlt_bookcase_books": (AE, False, False)},
            True,
        ),
        ("ALTER TABLE", ("RENAME COLUMN",), {"dbgovsqlt_bookcase_books": (AE, False, False)}, True),
        (
            "ALTER TABLE",
            ("ADD CONSTRAINT FOREIGN KEY",),
            {
                "dbgovsqlt_bookcase_books": (SRE, False, True),
                "dbgovsqlt_bookcase": (SRE, False, False),
            },
            True,
        ),
    ],
    "run_sql": [
        ("SET", (), {}, True),
        ("CREATE INDEX", (), {A: ("SHARE", False, True)}, True),
    ],
    "delete_model": [
        ("DROP TABLE", (), {"dbgovsqlt_cases_books": (AE, False, False)}, True),
        ("DROP TABLE", (), {"dbgovsqlt_cases": (AE, False, False)}, True),
    ],
    "add_index_concurrently": [("CREATE INDEX", (), {A: (SUE, False, True)}, False)],
    "remove_index_concurrently": [
        ("DROP INDEX", (), {"author_age_idx": (SUE, False, False)}, False)
    ],
}


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_django_operation_facts(captured, label):
    assert _summary(_ddl(captured, label)) == EXPECTED[label]


def _command(facts: StatementFacts) -> AlterCommand:
    """The one subcommand of an ALTER TABLE Django emits."""
    alter = facts.detail(AlterTableDetail)
    assert alter is not None and len(alter.commands) == 1
    return alter.commands[0]


def test_django_details(captured):
    (author,) = [f for f in _ddl(captured, "create_author") if f.kind == "CREATE TABLE"]
    created = author.detail(CreateTableDetail)
    assert created is not None
    cols = {c.name: c for c in created.columns}
    assert cols["id"].identity == "BY DEFAULT" and cols["id"].primary_key
    assert cols["email"].unique and cols["email"].type == "varchar(254)"
    assert cols["age"].check and not cols["age"].not_null
    assert cols["created_at"].type == "timestamp with time zone"

    add_default, _drop = _ddl(captured, "add_with_default")
    col = _command(add_default).column
    assert col is not None
    assert (col.name, col.type, col.default, col.not_null) == (
        "currency",
        "varchar(3)",
        "'EUR'",
        True,
    )
    assert col.default_volatile is False

    (now,) = _ddl(captured, "add_db_default_now")
    assert _command(now).column.default_volatility == "stable"

    fk = _command(_ddl(captured, "create_book")[2]).constraint
    assert fk.referenced_table == A and fk.deferrable and fk.initially_deferred
    assert fk.on_delete == "NO ACTION"  # Django emulates on_delete in Python

    (widen,) = _ddl(captured, "alter_varchar_widen")
    assert _command(widen).new_type == "varchar(300)" and _command(widen).using is False
    (narrow,) = _ddl(captured, "alter_type")
    assert _command(narrow).new_type == "varchar(50)" and _command(narrow).using is True

    update = _ddl(captured, "alter_null_to_not_null")[1]
    assert update.detail(DmlDetail).has_where is True

    (partial,) = _ddl(captured, "add_index_expr_partial")
    index = partial.detail(IndexDetail)
    assert index.partial and index.expressions == 1

    big = _ddl(captured, "autofield_to_big")
    kinds = [f.kind for f in big]
    assert "ALTER SEQUENCE" in kinds
    assert [_command(f).new_type for f in big if f.actions == ("ALTER COLUMN TYPE",)] == [
        "bigint",
        "bigint",
    ]

    set_local, _index = _ddl(captured, "run_sql")
    assert set_local.details == SetDetail(
        line=1, name="lock_timeout", value="3s", local=True, value_ms=3000
    )


def test_demo_sqlmigrate_output_parses():
    """``sqlmigrate`` output (BEGIN; comments; statements; COMMIT;) splits cleanly."""
    script = """BEGIN;
--
-- Add field shipping_address to order
--
ALTER TABLE "shop_orders" ADD COLUMN "shipping_address" text NULL;
COMMENT ON COLUMN "shop_orders"."shipping_address" IS 'PII: postal address';
COMMIT;
"""
    facts = split_and_analyse(script)
    assert [f.kind for f in facts] == ["BEGIN", "ALTER TABLE", "COMMENT", "COMMIT"]
    assert facts[1].details.comments[1] == "-- Add field shipping_address to order"
    assert facts[2].detail(CommentDetail).column == "shipping_address"
