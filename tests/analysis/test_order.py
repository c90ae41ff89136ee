"""The plan lists the statements `migrate` executes, in the order it executes them.

Not only compared with `sqlmigrate` (which prints from the same code path): each
migration is really applied with `manage.py migrate` while every statement the
connection sends is captured, and that sequence must equal the plan's
`statements_in_order()` — deferred SQL (foreign keys, FK and `_like` indexes, the
unique constraints of CreateModel) at the end of its migration.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.migrations import operations as ops
from django.db.migrations.executor import MigrationExecutor

from dbgov.analysis.engine import build_plan
from dbgov.analysis.model import Plan

pytestmark = pytest.mark.django_db(transaction=True)

# What the connection sends besides the migrations' own SQL: introspection, savepoints,
# the migration recorder.
_NOT_MIGRATION_SQL = re.compile(
    r"^\s*(SELECT\b|SAVEPOINT\b|RELEASE SAVEPOINT\b|ROLLBACK TO SAVEPOINT\b|"
    r'INSERT INTO "django_migrations"|DELETE FROM "django_migrations")',
    re.IGNORECASE,
)


def _normal(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").strip()


@contextlib.contextmanager
def captured_migrate(alias: str) -> Iterator[dict[str, list[str]]]:
    """Every statement sent to ``alias`` while a migration applies, by migration label
    (RunPython's ORM queries left out: the plan does not render Python)."""
    captured: dict[str, list[str]] = {}
    current: dict[str, object] = {"label": None, "python": False}
    # The executor's apply_migration, not Migration.apply: deferred SQL runs when the
    # schema editor closes, after Migration.apply has returned.
    original_apply = MigrationExecutor.apply_migration
    original_python = ops.RunPython.database_forwards

    def apply(self, state, migration, *args, **kwargs):  # type: ignore[no-untyped-def]
        current["label"] = f"{migration.app_label}.{migration.name}"
        captured.setdefault(str(current["label"]), [])
        try:
            return original_apply(self, state, migration, *args, **kwargs)
        finally:
            current["label"] = None

    def run_python(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        current["python"] = True
        try:
            return original_python(self, *args, **kwargs)
        finally:
            current["python"] = False

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        label = current["label"]
        if label and not current["python"]:
            text = context["cursor"].cursor.mogrify(sql, params) if params else sql
            if not _NOT_MIGRATION_SQL.match(text):
                captured[str(label)].append(_normal(text))
        return execute(sql, params, many, context)

    MigrationExecutor.apply_migration = apply  # type: ignore[method-assign]
    ops.RunPython.database_forwards = run_python  # type: ignore[method-assign]
    try:
        with connections[alias].execute_wrapper(wrapper):
            yield captured
    finally:
        MigrationExecutor.apply_migration = original_apply  # type: ignore[method-assign]
        ops.RunPython.database_forwards = original_python  # type: ignore[method-assign]


def planned(plan: Plan) -> dict[str, list[str]]:
    return {m.label: [_normal(s.sql) for _, s in m.statements_in_order()] for m in plan.migrations}


def assert_plan_is_what_migrate_runs(alias: str, app: str = "shop") -> None:
    plan = build_plan(database=alias, selection="targets", targets=[(app, None)], run_rules=False)
    expected = planned(plan)
    assert all(op.error is None for m in plan.migrations for op in m.operations)
    with captured_migrate(alias) as captured:
        call_command("migrate", app, database=alias, verbosity=0)
    assert set(captured) == set(expected)
    for label, statements in captured.items():
        assert expected[label] == statements, label


def test_demo_history_is_what_migrate_runs(scratch_db):
    assert_plan_is_what_migrate_runs(scratch_db)


def test_deferred_sql_runs_at_the_end_of_its_migration(scratch_db, shop_migrations):
    shop_migrations("deferred")
    plan = build_plan(database=scratch_db, run_rules=False)
    initial = plan.migrations[0]
    order = [(op.index, s.deferred) for op, s in initial.statements_in_order()]
    # The RunSQL (operation 2) runs before any deferred statement of operations 0 and 1.
    first_deferred = next(i for i, (_, deferred) in enumerate(order) if deferred)
    assert (2, False) in order[:first_deferred]
    assert all(deferred for _, deferred in order[first_deferred:])
    positions = [s.position for _, s in initial.statements_in_order()]
    assert positions == list(range(len(positions)))
    assert_plan_is_what_migrate_runs(scratch_db)


def test_introspected_sql_is_what_migrate_runs(scratch_db, shop_migrations):
    shop_migrations("introspection")
    assert_plan_is_what_migrate_runs(scratch_db)
