"""The plan engine renders exactly what Django would run, without touching the target."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from dbgov.analysis.engine import build_plan
from dbgov.analysis.errors import AnalysisError
from dbgov.analysis.model import Plan

pytestmark = pytest.mark.django_db


def sqlmigrate(alias: str, app: str, name: str) -> list[str]:
    out = io.StringIO()
    call_command("sqlmigrate", app, name, database=alias, stdout=out, no_color=True)
    return [
        line
        for line in out.getvalue().splitlines()
        if line and not line.startswith("--") and line not in ("BEGIN;", "COMMIT;")
    ]


def rendered(plan: Plan, name: str) -> list[str]:
    migration = next(m for m in plan.migrations if m.name == name)
    # sqlmigrate prints deferred SQL at the end of the migration, in creation order.
    immediate = [s.sql for o in migration.operations for s in o.statements if not s.deferred]
    deferred = [s.sql for o in migration.operations for s in o.statements if s.deferred]
    return [line for sql in immediate + deferred for line in sql.splitlines()]


def assert_matches_sqlmigrate(alias: str, plan: Plan, app: str = "shop") -> None:
    """Apply the plan's migrations one by one with `migrate` and compare each to sqlmigrate."""
    for migration in plan.migrations:
        if migration.app_label != app:
            continue
        expected = sqlmigrate(alias, app, migration.name)
        assert rendered(plan, migration.name) == expected, migration.label
        call_command("migrate", app, migration.name, database=alias, verbosity=0)


def shadow_databases() -> list[str]:
    """Shadow databases of this process (the name holds the pid; others may share the server)."""
    with connections["default"]._nodb_cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'dbgov_shadow_%'")
        return [row[0] for row in cursor.fetchall() if f"_{os.getpid()}_" in row[0]]


def applied(alias: str) -> set[tuple[str, str]]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return set(cursor.fetchall())


def test_demo_history_sql_is_exactly_what_sqlmigrate_prints(scratch_db):
    plan = build_plan(
        database=scratch_db,
        selection="targets",
        targets=[("shop", None)],
        run_rules=False,
        use_cache=False,
    )
    names = [m.name for m in plan.migrations if m.app_label == "shop"]
    assert names[0] == "0001_products" and names[-1] == "0011_order_shipping_address"
    assert_matches_sqlmigrate(scratch_db, plan)
    # Operations in a row on the same models start from the state the previous one rendered
    # (the SQL above is still exactly sqlmigrate's).
    assert plan.render_stats is not None and plan.render_stats.subsets_reused > 0


def test_sql_that_depends_on_an_earlier_pending_migration_is_exact(scratch_db, shop_migrations):
    shop_migrations("introspection")
    # sqlmigrate alone cannot render 0003: the constraint 0002 creates is not there yet.
    with pytest.raises(ValueError, match="Found wrong number"):
        sqlmigrate(scratch_db, "shop", "0003_drop_unique")
    plan = build_plan(
        database=scratch_db, selection="targets", targets=[("shop", None)], run_rules=False
    )
    drop_unique = rendered(plan, "0003_drop_unique")
    assert len(drop_unique) == 1 and drop_unique[0].startswith(
        'ALTER TABLE "shop_thing" DROP CONSTRAINT "shop_thing_a_b_'
    )
    assert all(op.error is None for m in plan.migrations for op in m.operations)
    assert_matches_sqlmigrate(scratch_db, plan)


def test_rendering_leaves_the_target_database_and_no_shadow_behind(scratch_db, shop_migrations):
    shop_migrations("introspection")
    before = applied(scratch_db)
    tables_before = set(connections[scratch_db].introspection.table_names())
    plan = build_plan(database=scratch_db, run_rules=False)
    assert [m.name for m in plan.migrations] == [
        "0001_initial",
        "0002_unique",
        "0003_drop_unique",
        "0004_drop_fk",
    ]
    assert applied(scratch_db) == before
    assert set(connections[scratch_db].introspection.table_names()) == tables_before
    assert not [
        n for n in shadow_databases() if "test_scratch" not in n and n.startswith("dbgov_shadow_")
    ]


def test_squashed_separate_state_runsql_and_runpython(scratch_db, shop_migrations):
    shop_migrations("special")
    plan = build_plan(database=scratch_db, run_rules=False)
    names = [m.name for m in plan.migrations]
    # A fresh database uses the squashed migration instead of the ones it replaces.
    assert names == ["0001_squashed_0002", "0003_separate", "0004_broken_sql"]
    squashed = plan.migrations[0]
    assert squashed.replaces == [("shop", "0001_initial"), ("shop", "0002_more")]

    separate = plan.migrations[1]
    create, add_index = separate.operations
    assert [s.sql for s in create.statements] == [
        "CREATE TABLE shop_crate (id bigint PRIMARY KEY, box_id bigint NOT NULL);"
    ]
    # The index is on a model only the state knows: it still renders (on the real table).
    assert add_index.statements[0].sql == 'CREATE INDEX "crate_box_idx" ON "shop_crate" ("box_id");'

    broken = plan.migrations[2]
    bad_sql, run_python, add_field = broken.operations
    assert bad_sql.error and "shop_no_such_table" in bad_sql.error
    assert bad_sql.statements[0].sql.startswith("ALTER TABLE shop_no_such_table")
    assert run_python.renders_sql is False and run_python.statements == []
    assert run_python.reversible is False
    # A failure does not poison the rest of the migration.
    assert add_field.error is None
    assert add_field.statements[0].sql == 'ALTER TABLE "shop_box" ADD COLUMN "weight" integer NULL;'


def test_partially_applied_squash_renders_the_replaced_migrations(scratch_db, shop_migrations):
    shop_migrations("special")
    # Apply only the first replaced migration, as a database that predates the squash.
    executor = MigrationExecutor(connections[scratch_db])
    executor.loader.replace_migrations = False
    executor.loader.build_graph()
    executor.migrate([("shop", "0001_initial")])
    plan = build_plan(database=scratch_db, run_rules=False)
    assert [m.name for m in plan.migrations][:2] == ["0002_more", "0003_separate"]
    assert plan.migrations[0].operations[0].statements[0].sql == (
        'ALTER TABLE "shop_box" ADD COLUMN "size" integer NULL;'
    )


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("broken_import", r"cannot import .*0002_broken\.py.*NameError"),
        ("conflict", r"conflicting migrations .*0002_left, 0002_right"),
        ("missing_dependency", r"0001_no_such_parent"),
        ("cycle", r"cycle"),
    ],
)
def test_bad_migration_graphs_give_one_clear_error(scratch_db, shop_migrations, scenario, expected):
    shop_migrations(scenario)
    with pytest.raises(AnalysisError, match=expected):
        build_plan(database=scratch_db, run_rules=False)


def test_unreachable_database_is_a_clear_error(scratch_db):
    settings_dict = dict(connections.settings[scratch_db], PORT="1", HOST="127.0.0.1")
    connections.settings["dead"] = settings_dict
    try:
        with pytest.raises(AnalysisError, match="database 'dead' does not answer"):
            build_plan(database="dead", run_rules=False)
    finally:
        del connections.settings["dead"]


class NoShopOnScratch:
    def allow_migrate(self, db, app_label, **hints):
        if db == "scratch" and app_label == "shop":
            return False
        return None


def test_routers_decide_per_alias(scratch_db, shop_migrations):
    shop_migrations("introspection")
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.NoShopOnScratch"]):
        plan = build_plan(database=scratch_db, run_rules=False)
    assert plan.migrations, "the migrations are still listed"
    assert all(not op.statements for m in plan.migrations for op in m.operations)


def test_task_selection_renders_dependencies_but_reports_the_task(scratch_db):
    plan = build_plan(database=scratch_db, task="T-021", run_rules=False)
    assert [m.name for m in plan.selected] == ["0002_orders", "0003_orders_user_history_index"]
    # 0001_products is pending too and rendered first (0002 needs its table), not reported.
    assert [m.name for m in plan.migrations if not m.selected] == ["0001_products"]


@pytest.mark.slow  # renders / loads at full size: not in the fast tier
def test_all_renders_the_whole_history_from_an_empty_database():
    plan = build_plan(selection="all", run_rules=False)
    labels = {m.label for m in plan.migrations}
    assert "auth.0001_initial" in labels and "shop.0011_order_shipping_address" in labels
    assert all(op.error is None for m in plan.migrations for op in m.operations)
