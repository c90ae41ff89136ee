"""DBGOV["HONOUR_IGNORES"]: squawk's ignore comments and django-migration-linter's
IgnoreMigration suppress the matching dbgov findings, with a recorded reason."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.db import migrations, models
from django.test import override_settings
from django_migration_linter import IgnoreMigration

from dbgov.analysis.compat import SQUAWK_RULES, declares_ignore_migration
from dbgov.analysis.describe import describe_migration
from dbgov.analysis.model import Plan, Statement
from dbgov.analysis.rules import all_rules, evaluate
from dbgov.analysis.sql import split_and_analyse_each
from dbgov.conf import DEFAULTS
from dbgov.lint import lint_sql

SQUAWK_ON = {**DEFAULTS, "HONOUR_IGNORES": ["squawk"]}

ANNOTATED = (
    "-- squawk-ignore ban-drop-column\n"
    "ALTER TABLE orders DROP COLUMN legacy;\n"
    "ALTER TABLE orders DROP COLUMN code; -- squawk-ignore ban-drop-column, renaming-column\n"
    "ALTER TABLE orders DROP COLUMN note;\n"
)


def _drops(plan):
    return [(f.line, f.suppressed) for f in plan.findings if f.rule_id == "drop-column"]


def test_squawk_ids_map_to_existing_dbgov_rules():
    ids = {r.id for r in all_rules()}
    assert {rule for rules in SQUAWK_RULES.values() for rule in rules} <= ids


def test_squawk_comments_are_ignored_unless_the_setting_says_so():
    plan = lint_sql({"m.sql": ANNOTATED}, settings=DEFAULTS)
    assert _drops(plan) == [(2, None), (3, None), (4, None)]


def test_squawk_comments_suppress_the_mapped_rule_with_a_reason():
    plan = lint_sql({"m.sql": ANNOTATED}, settings=SQUAWK_ON)
    (first, second, third) = _drops(plan)
    assert first[0] == 2 and "squawk-ignore ban-drop-column" in first[1]
    assert "HONOUR_IGNORES" in first[1]
    assert second[0] == 3 and second[1]  # on the statement's line
    assert third == (4, None)  # the marker covers its own statement only
    assert all(not f.needs_review for f in plan.findings if f.suppressed)


def test_squawk_marker_for_another_rule_or_with_extra_words_ignores_nothing():
    sql = (
        "-- squawk-ignore require-concurrent-index-creation\n"
        "ALTER TABLE orders DROP COLUMN legacy;\n"
        "-- squawk-ignore ban-drop-column: archived\n"  # squawk: "unknown name"
        "ALTER TABLE orders DROP COLUMN code;\n"
    )
    assert _drops(lint_sql({"m.sql": sql}, settings=SQUAWK_ON)) == [(2, None), (4, None)]


def test_squawk_file_markers():
    whole = "-- squawk-ignore-file\nALTER TABLE orders DROP COLUMN legacy;\nALTER TABLE orders ADD COLUMN;\n"
    plan = lint_sql({"m.sql": whole}, settings=SQUAWK_ON)
    by_rule = {f.rule_id: f.suppressed for f in plan.findings}
    assert "squawk-ignore-file" in by_rule["drop-column"]
    assert by_rule["sql-parse-error"] is None  # analysis failures always need a human
    one = "-- squawk-ignore-file ban-drop-table\nDROP TABLE a;\nALTER TABLE b DROP COLUMN c;\n"
    plan = lint_sql({"m.sql": one}, settings={**SQUAWK_ON, "UNWAIVABLE_SEVERITY": None})
    assert {f.rule_id: bool(f.suppressed) for f in plan.findings} == {
        "drop-table": True,
        "drop-column": False,
    }
    # By default a never-without-a-plan finding cannot be waived by its author, whatever
    # the marker's tool (docs/security.md): the reviewers see the waiver's reason instead.
    plan = lint_sql({"m.sql": one}, settings=SQUAWK_ON)
    drop = next(f for f in plan.findings if f.rule_id == "drop-table")
    assert not drop.suppressed and "waiver refused" in drop.message


class IgnoredMigration(migrations.Migration):
    operations = [
        IgnoreMigration(),
        migrations.RunSQL("ALTER TABLE orders DROP COLUMN legacy", migrations.RunSQL.noop),
        migrations.AddField("order", "code", models.TextField(default="x")),
    ]


def _plan_of(django_migration, settings):
    migration = describe_migration(django_migration, selected=True, applied=False)
    sql_op = migration.operations[1]
    sql_op.statements = [
        Statement(sql=f.sql, facts=f)
        for f in split_and_analyse_each("ALTER TABLE orders DROP COLUMN legacy;")
    ]
    migration.operations[2].error = "could not render"  # an analysis failure stays
    plan = Plan(database="default", server_version=150000, migrations=[migration])
    dj = {migration.key: django_migration}
    return evaluate(plan, dj, settings=settings)


def test_ignore_migration_is_found_without_importing_the_package():
    assert declares_ignore_migration(IgnoredMigration.operations)
    assert not declares_ignore_migration([migrations.RunSQL("SELECT 1")])


def test_ignore_migration_suppresses_the_migrations_findings_when_honoured():
    django_migration = IgnoredMigration("0002_ignored", "shop")
    before = _plan_of(django_migration, DEFAULTS)
    assert any(f.rule_id == "drop-column" and f.needs_review for f in before)
    after = _plan_of(django_migration, {**DEFAULTS, "HONOUR_IGNORES": ["django-migration-linter"]})
    drop = next(f for f in after if f.rule_id == "drop-column")
    assert "IgnoreMigration()" in (drop.suppressed or "")
    assert [f.rule_id for f in after if f.needs_review] == ["render-failed"]


@pytest.mark.parametrize("value", ["squawk", ["squawk", "sqlfluff"], [1]])
def test_check_e010_rejects_a_bad_setting(value):
    with override_settings(DBGOV={"HONOUR_IGNORES": value}):
        errors = [m for m in run_checks() if m.id == "dbgov.E010"]
    assert len(errors) == 1 and "HONOUR_IGNORES" in errors[0].msg


def test_check_e010_accepts_the_known_tools():
    with override_settings(DBGOV={"HONOUR_IGNORES": ["squawk", "django-migration-linter"]}):
        assert [m for m in run_checks() if m.id == "dbgov.E010"] == []
