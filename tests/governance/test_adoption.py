"""A gate teams can turn on: with DBGOV_ENFORCE_ON_MIGRATE=1, a fresh database
migrates, the test runner creates its database, Django's own apps pass (audited),
and the project's migrations are still gated. Real processes, real databases."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
pytestmark = pytest.mark.slow


def _admin_conninfo() -> str:
    db = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(
        host=db.get("HOST") or "127.0.0.1",
        port=str(db.get("PORT") or 5432),
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname="postgres",
    )


@pytest.fixture
def fresh_db() -> Iterator[str]:
    """A new, empty database (dropped afterwards, with its test twin)."""
    name = f"dbgov_adopt_{secrets.token_hex(4)}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
            for db in (name, f"test_{name}"):
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def run(name: str, *args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    db = settings.DATABASES["default"]
    url = f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"
    env = {**os.environ, "DATABASE_URL": url, "DBGOV_ENFORCE_ON_MIGRATE": "1"}
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "manage.py", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_fresh_install_migrates_with_enforcement_on(fresh_db: str) -> None:
    result = run(fresh_db, "migrate", "-v0")
    assert result.returncode == 0, result.stderr
    assert "relation" not in result.stderr


def test_contrib_apps_pass_after_dbgov_is_installed_and_project_apps_are_gated(
    fresh_db: str,
) -> None:
    first = run(fresh_db, "migrate", "dbgov", "-v0")
    assert first.returncode == 0, first.stderr
    contrib = run(fresh_db, "migrate", "-v0", "sessions")
    assert contrib.returncode == 0, contrib.stderr
    shop = run(fresh_db, "migrate", "-v0", "shop")
    assert shop.returncode != 0
    assert "dbgov: refusing to migrate" in shop.stderr and "Traceback" not in shop.stderr
    check = run(
        fresh_db,
        code=(
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'project.settings');"
            "django.setup();"
            "from dbgov.models import AuditEvent;"
            "from dbgov.governance import integrity;"
            "print(sorted({m for e in AuditEvent.objects.filter(action='migrate.ungoverned')"
            " for m in e.data['migrations']}));"
            "print('violations', len(integrity.verify()))"
        ),
    )
    assert check.returncode == 0, check.stderr
    assert "sessions.0001_initial" in check.stdout
    assert "violations 0" in check.stdout


def test_test_database_creation_is_never_gated(fresh_db: str) -> None:
    # what `manage.py test --keepdb` does before running tests, with enforcement on: the
    # second creation applies shop's pending migrations (which lack approvals)
    code = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import setup_test_environment

setup_test_environment()
old = connection.settings_dict["NAME"]
name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
call_command("migrate", "shop", "0009", verbosity=0)
connection.close()
connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = old
name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
from django.db.migrations.recorder import MigrationRecorder
applied = MigrationRecorder(connection).applied_migrations()
print("created", name, ("shop", "0010_orders_total_check") in applied)
connection.creation.destroy_test_db(old, verbosity=0)
"""
    result = run(fresh_db, code=code)
    assert result.returncode == 0, result.stderr
    assert f"created test_{fresh_db} True" in result.stdout
