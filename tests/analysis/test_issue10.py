"""The examples of issue 10's "Why", each reproduced (they failed before the fix)."""

from __future__ import annotations

from dbgov.analysis.details import AlterTableDetail
from dbgov.analysis.model import Migration, Operation, Plan, Statement
from dbgov.analysis.rules import evaluate
from dbgov.analysis.sql import analyse_statement
from dbgov.conf import DEFAULTS
from dbgov.lint import lint_sql


def _rules(sql: str, **kw) -> dict[str, list[str]]:
    plan = lint_sql({"m.sql": sql}, settings=DEFAULTS, **kw)
    found: dict[str, list[str]] = {}
    for f in plan.findings:
        found.setdefault(f.rule_id, []).append(f.message)
    return found


def test_one_off_default_does_not_fail_but_dropping_it_breaks_the_running_release():
    found = _rules(
        'ALTER TABLE "shop_orders" ADD COLUMN "currency" varchar(3) DEFAULT \'EUR\' NOT NULL;\n'
        'ALTER TABLE "shop_orders" ALTER COLUMN "currency" DROP DEFAULT;\n',
        assume_in_transaction=True,
    )
    assert "add-column-not-null-no-default" not in found
    (message,) = found["not-null-default-dropped"]
    assert "INSERTs of the running release" in message


def test_default_null_not_null_fails_on_rows():
    facts = analyse_statement('ALTER TABLE "t" ADD COLUMN "c" text DEFAULT NULL NOT NULL')
    (cmd,) = facts.detail(AlterTableDetail).commands
    assert cmd.fails_if_rows is True
    assert "add-column-not-null-no-default" in _rules(
        'ALTER TABLE "t" ADD COLUMN "c" text DEFAULT NULL NOT NULL;'
    )


def test_pi_default_is_immutable_no_rewrite():
    facts = analyse_statement("ALTER TABLE t ADD COLUMN x float DEFAULT (PI())")
    (cmd,) = facts.detail(AlterTableDetail).commands
    assert cmd.column is not None and cmd.column.default_volatility == "immutable"
    assert not facts.rewrites
    assert "add-column-volatile-default" not in _rules(
        "ALTER TABLE t ADD COLUMN x float DEFAULT (PI());"
    )


def test_varchar_and_numeric_widening_of_an_alterfield_do_not_rewrite():
    from dbgov.analysis.facts import attach_facts

    plan = Plan(database="x", server_version=150000)
    ops = [
        Operation(
            index=i,
            type="AlterField",
            description="",
            statements=[Statement(sql=f'ALTER TABLE "b" ALTER COLUMN "{col}" TYPE {new}')],
            details={"old_type": old, "new_type": new, "column": col},
        )
        for i, (col, old, new) in enumerate(
            [("title", "varchar(10)", "varchar(20)"), ("n", "numeric(12, 2)", "numeric(14, 2)")]
        )
    ]
    plan.migrations = [
        Migration(app_label="a", name="m", path=None, task="T-1", atomic=True, operations=ops)
    ]
    attach_facts(plan)
    assert [op.statements[0].facts.rewrites for op in ops] == [False, False]
    findings = evaluate(plan, settings=DEFAULTS, scope="sql")
    assert not [f for f in findings if f.rule_id == "alter-column-type"]


def test_alter_constraint_and_user_catalog_table_take_access_exclusive():
    assert analyse_statement("ALTER TABLE t ALTER CONSTRAINT c DEFERRABLE").lock.value == (
        "ACCESS EXCLUSIVE"
    )
    assert analyse_statement("ALTER TABLE t SET (user_catalog_table = true)").lock.value == (
        "ACCESS EXCLUSIVE"
    )


def test_dropping_a_foreign_key_locks_the_referenced_table_when_the_schema_is_known():
    from dbgov.analysis.schema import ForeignKey, Schema

    schema = Schema(foreign_keys=lambda t: {"fk": ForeignKey("orders", ("order_id",))})
    facts = analyse_statement("ALTER TABLE items DROP CONSTRAINT fk", schema=schema)
    assert {t.table: t.lock.value for t in facts.locks} == {
        "items": "ACCESS EXCLUSIVE",
        "orders": "ACCESS EXCLUSIVE",
    }
    dropped = analyse_statement("DROP TABLE items", schema=schema)
    assert "orders" in {t.table for t in dropped.locks}


def test_data_migration_message_says_it_runs_once():
    from dbgov.analysis.rules.data.data_migration import DataMigration

    assert "every deploy" not in DataMigration.summary
    assert "once" in DataMigration.summary
