"""Each core rule fires on a migration that has the hazard and stays silent on the safe way."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from dbgov.analysis.engine import build_plan
from dbgov.analysis.model import LockLevel, Severity
from dbgov.analysis.rules import all_rules

pytestmark = pytest.mark.django_db

EXPECTED = {
    "0002_add_not_null": {"add-column-not-null-no-default"},
    "0003_index": {"create-index-not-concurrently"},
    "0004_concurrently_atomic": {"concurrently-in-transaction", "render-failed"},
    "0005_set_not_null": {"set-not-null"},
    "0006_type": {"alter-column-type"},
    "0007_fk": {"add-foreign-key-validated", "create-index-not-concurrently"},
    "0008_check": {"add-check-validated"},
    "0009_drop_column": {"drop-column"},
    "0010_rename": {"rename"},
    "0011_runpython": {"runpython-no-reverse", "data-migration"},
    "0012_runsql": {"runsql-no-reverse", "truncate"},
    "0013_no_task": {"missing-task"},
    "0014_delete": {
        "drop-schema-or-database",
        "irreversible-operation",
        "drop-column",
        "drop-table",
    },
    "0015_cascade": {
        "fk-on-delete-cascade",
        "add-foreign-key-validated",
        "create-index-not-concurrently",
    },
    "0016_bad_sql": {"sql-parse-error", "render-failed"},
}


@pytest.fixture
def fail_plan(scratch_db, shop_migrations):
    shop_migrations("core_fail")
    call_command("migrate", "shop", "0001_initial", database=scratch_db, verbosity=0)
    return build_plan(database=scratch_db)


# The catalogue (test_rules_sql.py, test_rules_django.py) adds rules that also fire on
# these scenarios; this file checks the core ones (DESIGN.md's safety classes,
# reversibility and process), each in its own module since rules are one per module.
CORE: set[str] = set().union(*EXPECTED.values())
assert {cls.id for cls in all_rules()} >= CORE


def test_every_hazard_is_found_where_it_is(fail_plan):
    found: dict[str, set[str]] = {}
    for f in fail_plan.findings:
        if f.rule_id in CORE:
            found.setdefault(f.migration, set()).add(f.rule_id)
    assert found == EXPECTED


def test_findings_carry_the_lock_and_rewrite_facts(fail_plan):
    by_rule = {(f.migration, f.rule_id): f for f in fail_plan.findings}
    index = by_rule[("0003_index", "create-index-not-concurrently")]
    assert index.lock == LockLevel.SHARE and index.scans and index.table == "shop_widget"
    retype = by_rule[("0006_type", "alter-column-type")]
    assert retype.lock == LockLevel.ACCESS_EXCLUSIVE and retype.rewrites
    assert "from integer to bigint" in retype.message
    assert by_rule[("0005_set_not_null", "set-not-null")].scans
    assert by_rule[("0014_delete", "drop-table")].severity == Severity.PLAN
    assert by_rule[("0016_bad_sql", "sql-parse-error")].severity == Severity.ERROR
    # Every finding points at the file and line of its operation.
    for f in fail_plan.findings:
        assert f.path and f.path.endswith(f"core_fail/{f.migration}.py")
        assert f.line or f.rule_id == "missing-task"


def test_the_safe_way_of_each_hazard_has_no_finding(scratch_db, shop_migrations):
    shop_migrations("core_pass")
    call_command("migrate", "shop", "0001_initial", database=scratch_db, verbosity=0)
    plan = build_plan(database=scratch_db)
    assert [m.name for m in plan.migrations][0] == "0002_new_table_with_index"
    assert [f for f in plan.findings if f.rule_id in CORE] == []
    # the rest of the catalogue may advise (warnings) but nothing needs review
    assert not plan.needs_review


def test_a_table_is_new_only_for_the_task_that_creates_it(scratch_db, shop_migrations):
    """Tasks deploy separately: an index on another task's new table is on a live table."""
    shop_migrations("core_fail")
    plan = build_plan(database=scratch_db)  # 0001 (T-300) creates the tables in this plan
    rules = {(f.migration, f.rule_id) for f in plan.findings}
    # Same task T-300: the tables are new, so the locking rules stay silent.
    assert ("0003_index", "create-index-not-concurrently") not in rules
    # 0013 names no task: it is checked against the plan as one deploy, also silent.
    single = build_plan(database=scratch_db, single_deploy=True)
    assert not any(f.rule_id == "create-index-not-concurrently" for f in single.findings)
    # Convention and reversibility rules still apply to new tables.
    assert ("0011_runpython", "runpython-no-reverse") in rules


def test_suppression_with_a_reason(scratch_db, shop_migrations, settings):
    shop_migrations("core_fail")
    call_command("migrate", "shop", "0001_initial", database=scratch_db, verbosity=0)
    settings.DBGOV = {
        **settings.DBGOV,
        "DISABLED_RULES": ["missing-task"],
        "SEVERITY_OVERRIDES": {"drop-column": "warning"},
    }
    plan = build_plan(database=scratch_db)
    assert not any(f.rule_id == "missing-task" for f in plan.findings)
    drop = next(f for f in plan.findings if f.rule_id == "drop-column")
    assert drop.severity == Severity.WARNING and not drop.needs_review


def test_team_conventions_apply_to_the_projects_own_apps_only(
    scratch_db, shop_migrations, settings
):
    shop_migrations("core_fail")
    call_command("migrate", "shop", "0001_initial", database=scratch_db, verbosity=0)
    settings.DBGOV = {**settings.DBGOV, "CONVENTION_APPS": ["someotherapp"]}
    rules = {f.rule_id for f in build_plan(database=scratch_db).findings}
    # Locks and breakage still matter in a third-party app's migrations ...
    assert {"create-index-not-concurrently", "drop-column"} <= rules
    # ... its missing task and conventions are not the team's to fix.
    assert "missing-task" not in rules and "fk-on-delete-cascade" not in rules


def only_user_order_history() -> set[str]:
    return {"user order history"}


def test_index_purposes_resolve_against_the_query_pattern_registry(scratch_db, settings):
    call_command("migrate", "shop", "0001_products", database=scratch_db, verbosity=0)
    purpose = [
        f for f in build_plan(database=scratch_db).findings if f.rule_id == "index-without-purpose"
    ]
    assert (
        purpose == []
    )  # both demo indexes name registered patterns (project/shop/dbgov_queries.py)
    settings.DBGOV = {
        **settings.DBGOV,
        "QUERY_PATTERN_NAMES": f"{__name__}.only_user_order_history",
    }
    purpose = [
        f for f in build_plan(database=scratch_db).findings if f.rule_id == "index-without-purpose"
    ]
    assert [(f.migration, f.severity) for f in purpose] == [
        ("0007_orders_status_index", Severity.WARNING)
    ]
    assert "'orders by status', which is not registered" in purpose[0].message
