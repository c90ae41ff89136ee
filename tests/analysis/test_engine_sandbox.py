"""The plan engine's sandbox: templates of the target's schema, the render cache, reads
that never queue behind a lock, failures that hide nothing, versions, `--since`."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from django.test import override_settings

from dbgov.analysis.engine import build_plan
from dbgov.analysis.errors import AnalysisError
from dbgov.sandbox.binaries import candidates
from dbgov.sandbox.cluster import EmbeddedCluster
from dbgov.sandbox.server import ServerAccess
from dbgov.sandbox.templates import list_templates

pytestmark = pytest.mark.django_db(transaction=True)

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@pytest.fixture
def temp_shop(tmp_path, monkeypatch):
    """A copy of a scenario as the shop app's migrations, in a folder a test may edit."""
    package = f"dbgov_tmp_migrations_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / package
    monkeypatch.syspath_prepend(str(tmp_path))
    overrides = []

    def use(scenario: str) -> Path:
        shutil.copytree(SCENARIOS / scenario, folder)
        o = override_settings(MIGRATION_MODULES={"shop": package})
        o.enable()
        overrides.append(o)
        return folder

    yield use
    for o in reversed(overrides):
        o.disable()
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


def forget_modules(folder: Path) -> None:
    """Make the next graph load import the (edited) migration files again."""
    for name in [m for m in sys.modules if m.startswith(folder.name + ".")]:
        del sys.modules[name]


def sandbox_access(root: Path) -> ServerAccess:
    (cluster,) = [
        c for c in EmbeddedCluster.existing(root) if c.is_running() and c.binaries.major == 15
    ]
    return ServerAccess({k: v for k, v in cluster.conninfo().items() if k != "dbname"}, label="t")


def _target(alias: str) -> psycopg.Connection:
    s = connections[alias].settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"] or "postgres",
        dbname=s["NAME"],
        autocommit=True,
    )


# -- templates of the target's schema -------------------------------------------------------


def test_the_targets_schema_is_read_once_and_cloned_until_it_changes(
    scratch_db, shop_migrations, private_sandbox
):
    shop_migrations("introspection")
    first = build_plan(database=scratch_db, run_rules=False, use_cache=False)
    access = sandbox_access(private_sandbox)
    schema_templates = {t.name: t.created for t in list_templates(access) if t.kind == "schema"}
    assert first.sandbox and "embedded sandbox, PostgreSQL 15" in first.sandbox

    build_plan(database=scratch_db, run_rules=False, use_cache=False)
    again = {t.name: t.created for t in list_templates(access) if t.kind == "schema"}
    assert again == schema_templates  # cloned, not read again

    with _target(scratch_db) as conn:
        conn.execute("CREATE TABLE manual_table (id int)")
    try:
        build_plan(database=scratch_db, run_rules=False, use_cache=False)
        changed = {t.name for t in list_templates(access) if t.kind == "schema"}
        assert len(changed - set(schema_templates)) == 1  # a new schema, a new template
    finally:
        with _target(scratch_db) as conn:
            conn.execute("DROP TABLE manual_table")


def _hold_lock(alias: str, sql: str, release: threading.Event, ready: threading.Event) -> None:
    with _target(alias) as conn, conn.transaction():
        conn.execute(sql)
        ready.set()
        release.wait(30)


@pytest.mark.parametrize(
    ("lock", "expected"),
    [
        ('LOCK TABLE "django_migrations" IN ACCESS EXCLUSIVE MODE', "django_migrations timed out"),
        ('LOCK TABLE "auth_user" IN ACCESS EXCLUSIVE MODE', "timed out waiting for a lock"),
    ],
)
def test_reads_on_the_target_never_wait_in_a_lock_queue(
    scratch_db, shop_migrations, lock, expected
):
    shop_migrations("introspection")
    release, ready = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(scratch_db, lock, release, ready))
    holder.start()
    try:
        assert ready.wait(10)
        started = time.perf_counter()
        with (
            override_settings(DBGOV={**_dbgov(), "TARGET_LOCK_TIMEOUT_MS": 300}),
            pytest.raises(AnalysisError, match=expected),
        ):
            # A new schema: the template must be read with pg_dump, which locks tables.
            build_plan(database=scratch_db, run_rules=False, use_cache=False)
        assert time.perf_counter() - started < 15
    finally:
        release.set()
        holder.join()


def _dbgov() -> dict:
    from django.conf import settings

    return dict(settings.DBGOV)


# -- the render cache ----------------------------------------------------------------------


def test_the_render_cache_serves_unchanged_migrations_and_sees_edits(
    scratch_db, temp_shop, tmp_path, settings
):
    settings.DBGOV = {**_dbgov(), "CACHE_DIR": str(tmp_path / "cache")}
    folder = temp_shop("introspection")
    cold = build_plan(database=scratch_db, run_rules=False)
    assert cold.cache_hits == 0 and cold.sandbox is not None
    warm = build_plan(database=scratch_db, run_rules=False)
    assert warm.cache_hits == 4 and warm.sandbox is None  # no sandbox needed at all
    assert [s.sql for m in warm.migrations for o in m.operations for s in o.statements] == [
        s.sql for m in cold.migrations for o in m.operations for s in o.statements
    ]
    # Editing a migration re-renders it and everything after it, not what precedes it.
    path = folder / "0003_drop_unique.py"
    path.write_text(path.read_text() + "\n# edited\n")
    forget_modules(folder)
    edited = build_plan(database=scratch_db, run_rules=False)
    assert edited.cache_hits == 2 and edited.sandbox is not None
    assert build_plan(database=scratch_db, run_rules=False, use_cache=False).cache_hits == 0


# -- failures hide nothing --------------------------------------------------------------------


def test_a_statement_the_sandbox_refuses_hides_nothing_after_it(scratch_db, temp_shop):
    folder = temp_shop("introspection")
    (folder / "0005_partly_broken.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        '    dbgov_task = "T-100"\n'
        '    dependencies = [("shop", "0004_drop_fk")]\n'
        "    operations = [\n"
        "        migrations.RunSQL([\n"
        '            "ALTER TABLE shop_thing ADD COLUMN c int",\n'
        '            "ALTER TABLE shop_no_such_table ADD COLUMN c int",\n'
        '            "CREATE INDEX thing_c ON shop_thing (c)",\n'
        "        ], migrations.RunSQL.noop),\n"
        '        migrations.RunSQL("ALTER TABLE shop_thing ADD COLUMN d int", migrations.RunSQL.noop),\n'
        "    ]\n"
    )
    with override_settings(DBGOV={**_dbgov(), "CONVENTION_APPS": ["some_other_app"]}):
        plan = build_plan(database=scratch_db)
    migration = plan.migrations[-1]
    first, second = migration.operations
    assert [s.sql for s in first.statements] == [
        "ALTER TABLE shop_thing ADD COLUMN c int;",
        "ALTER TABLE shop_no_such_table ADD COLUMN c int;",
        "CREATE INDEX thing_c ON shop_thing (c);",
    ]
    assert [bool(s.failed) for s in first.statements] == [False, True, False]
    assert "shop_no_such_table" in first.statements[1].failed
    assert second.error is None and second.statements[0].failed is None
    # Analysis failures need review in every app, conventions or not.
    flagged = [f for f in plan.findings if f.migration == "0005_partly_broken"]
    assert [f.rule_id for f in flagged if f.needs_review] == ["render-failed"]


# -- versions -------------------------------------------------------------------------------


def test_a_newer_sandbox_renders_what_the_targets_version_would_run(scratch_db, shop_migrations):
    newer = [b for b in candidates() if b.major > 15]
    if not newer:
        pytest.skip("no PostgreSQL server binaries newer than 15 (pip install dbgov[sandbox])")
    shop_migrations("introspection")
    same = build_plan(database=scratch_db, run_rules=False, use_cache=False)
    with override_settings(DBGOV={**_dbgov(), "SANDBOX_BINARIES": str(newer[0].bindir)}):
        other = build_plan(database=scratch_db, run_rules=False, use_cache=False)
    assert f"PostgreSQL {newer[0].major}" in (other.sandbox or "")
    assert any("rendered for PostgreSQL 15" in n for n in other.notes)
    assert [s.sql for m in other.migrations for _, s in m.statements_in_order()] == [
        s.sql for m in same.migrations for _, s in m.statements_in_order()
    ]
    assert all(op.error is None for m in other.migrations for op in m.operations)


# -- --since REF -----------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def test_since_plans_what_changed_against_an_empty_database(scratch_db, temp_shop, tmp_path):
    folder = temp_shop("introspection")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    for name in ("0003_drop_unique.py", "0004_drop_fk.py"):
        _git(tmp_path, "rm", "-q", "--cached", f"{folder.name}/{name}")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    with override_settings(BASE_DIR=tmp_path):
        plan = build_plan(database=scratch_db, selection="since", since="HEAD", run_rules=False)
        assert [m.name for m in plan.selected] == ["0003_drop_unique", "0004_drop_fk"]
        assert plan.selection == "since"
        drop = plan.selected[0].operations[0].statements[0].sql
        assert drop.startswith('ALTER TABLE "shop_thing" DROP CONSTRAINT "shop_thing_a_b_')
        # A second run clones the history template instead of rendering 0001-0002 again.
        again = build_plan(
            database=scratch_db, selection="since", since="HEAD", run_rules=False, use_cache=False
        )
        assert again.render_stats.migrations == 2
        with pytest.raises(AnalysisError, match="git"):
            build_plan(database=scratch_db, selection="since", since="no-such-ref", run_rules=False)
    # The target was not read for what is applied: nothing of shop is applied there.
    with _target(scratch_db) as conn, contextlib.closing(conn.cursor()) as cur:
        cur.execute("SELECT count(*) FROM django_migrations WHERE app = 'shop'")
        assert cur.fetchone() == (0,)


# -- facts from the target's schema ---------------------------------------------------------


def test_user_function_volatility_comes_from_the_targets_catalog(scratch_db, temp_shop):
    folder = temp_shop("introspection")
    with _target(scratch_db) as conn:
        conn.execute(
            "CREATE FUNCTION shop_fixed_zone() RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 1'"
        )
        conn.execute(
            "CREATE FUNCTION shop_next_ticket() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT 2'"
        )
    try:
        (folder / "0005_defaults.py").write_text(
            "from django.db import migrations\n\n\n"
            "class Migration(migrations.Migration):\n"
            '    dbgov_task = "T-100"\n'
            '    dependencies = [("shop", "0004_drop_fk")]\n'
            "    operations = [\n"
            '        migrations.RunSQL("ALTER TABLE shop_thing ADD COLUMN zone int DEFAULT shop_fixed_zone()", migrations.RunSQL.noop),\n'
            '        migrations.RunSQL("ALTER TABLE shop_thing ADD COLUMN ticket int DEFAULT shop_next_ticket()", migrations.RunSQL.noop),\n'
            "    ]\n"
        )
        plan = build_plan(database=scratch_db)
        zone, ticket = plan.migrations[-1].operations
        assert not zone.statements[0].facts.rewrites  # immutable: no rewrite
        assert ticket.statements[0].facts.rewrites  # volatile: every row rewritten
    finally:
        with _target(scratch_db) as conn:
            conn.execute("DROP FUNCTION shop_fixed_zone(); DROP FUNCTION shop_next_ticket()")
