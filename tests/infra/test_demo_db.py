"""scripts/demo_db.py: the demo database's starting point (shop's later history pending)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def scratch() -> Iterator[tuple[str, dict[str, str]]]:
    """Server URL and an environment naming two scratch databases on the test server."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    server = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    # Named after this area's database, so parallel runs of other areas never collide.
    base = os.environ.get("DATABASE_URL", "x/dbgov").rsplit("/", 1)[-1].removeprefix("test_")
    names = [f"{base}_demo_check", f"{base}_demo_check_staging"]
    env = {
        **os.environ,
        "DATABASE_URL": f"{server}/{names[0]}",
        "STAGING_DATABASE_URL": f"{server}/{names[1]}",
        "DJANGO_SETTINGS_MODULE": "project.settings",
        # the demo database's history moves freely here (CI runs with the gate on)
        "DBGOV_ENFORCE_ON_MIGRATE": "0",
    }
    yield server, env
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def applied(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return set(conn.execute("SELECT app, name FROM django_migrations").fetchall())


def test_demo_database_starts_with_shops_history_pending(
    scratch: tuple[str, dict[str, str]],
) -> None:
    server, env = scratch
    url = env["DATABASE_URL"]

    created = run("scripts/demo_db.py", "create", env=env)
    assert created.returncode == 0, created.stderr
    assert "creating database" in created.stderr
    again = run("scripts/demo_db.py", "create", env=env)
    assert again.returncode == 0 and "exists" in again.stderr

    migrated = run("scripts/demo_db.py", "migrate", "shop", "0001_products", env=env)
    assert migrated.returncode == 0, migrated.stderr
    rows = applied(url)
    assert {name for app, name in rows if app == "shop"} == {"0001_products"}
    assert {"admin", "auth", "contenttypes", "sessions", "dbgov"} <= {app for app, _ in rows}

    # Someone migrates shop further: the next demo run starts from the same place again.
    forward = run("manage.py", "migrate", "shop", "0003", "-v0", env=env)
    assert forward.returncode == 0, forward.stderr
    assert ("shop", "0003_orders_user_history_index") in applied(url)
    reset = run("scripts/demo_db.py", "migrate", "shop", "0001_products", env=env)
    assert reset.returncode == 0, reset.stderr
    assert "recreating it" in reset.stderr
    assert {name for app, name in applied(url) if app == "shop"} == {"0001_products"}


def test_unknown_migration_is_one_clear_error(scratch: tuple[str, dict[str, str]]) -> None:
    _, env = scratch
    assert run("scripts/demo_db.py", "create", env=env).returncode == 0
    result = run("scripts/demo_db.py", "migrate", "shop", "0999_nope", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: no migration shop.0999_nope on disk"
