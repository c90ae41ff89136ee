"""Database chores of scripts/demo.sh (run with the project's virtualenv).

    python scripts/demo_db.py create
        Create the databases named by DATABASE_URL and STAGING_DATABASE_URL when missing
        (connecting to the server's `postgres` maintenance database).

    python scripts/demo_db.py migrate APP MIGRATION
        Bring the default database to the demo's starting point: every app migrated to its
        latest migration except APP, which is migrated up to MIGRATION only, so that APP's
        later migrations stay pending for `dbgov plan` to show. If APP is already past
        MIGRATION (someone ran `manage.py migrate`), the demo database is dropped and
        created again first: it is disposable, and the demo must start from the same place.

Progress goes to stderr; the exit code is 0 on success, 2 with a one-line message on error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[dbgov demo] {message}", file=sys.stderr, flush=True)


def _server_connection(url: str) -> tuple[Any, str]:
    """An autocommit connection to the maintenance database of URL's server, and URL's db name."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if not name:
        raise SystemExit(f"error: {url!r} names no database")
    conn = psycopg.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        autocommit=True,
        connect_timeout=10,
    )
    return conn, name


def _database_exists(conn: Any, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
    )


def create_database(url: str, *, recreate: bool = False) -> None:
    from psycopg import sql

    conn, name = _server_connection(url)
    with conn:
        exists = _database_exists(conn, name)
        if exists and recreate:
            log(f"dropping database {name}")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = False
        if exists:
            log(f"database {name} exists")
        else:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def cmd_create() -> None:
    urls = {
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "STAGING_DATABASE_URL": os.environ.get("STAGING_DATABASE_URL"),
    }
    for var, url in urls.items():
        if not url:
            raise SystemExit(f"error: {var} is not set (source scripts/services.sh first)")
        create_database(url)


def cmd_migrate(app_label: str, migration_name: str) -> None:
    import django
    from django.core.management import call_command
    from django.db import connections
    from django.db.migrations.loader import MigrationLoader

    django.setup()
    loader = MigrationLoader(connections["default"])
    if (app_label, migration_name) not in loader.disk_migrations:
        raise SystemExit(f"error: no migration {app_label}.{migration_name} on disk")
    keep = loader.graph.forwards_plan((app_label, migration_name))
    ahead = sorted(
        f"{app}.{name}"
        for app, name in loader.applied_migrations
        if app == app_label and (app, name) not in keep
    )
    if ahead:
        log(
            f"the demo database already has {', '.join(ahead)} applied; "
            "recreating it so that the demo starts from its pending history"
        )
        connections.close_all()
        create_database(os.environ["DATABASE_URL"], recreate=True)

    verbosity = int(os.environ.get("DBGOV_DEMO_VERBOSITY", "0"))
    out = sys.stderr
    others = sorted(loader.migrated_apps - {app_label})
    for label in others:
        call_command("migrate", label, verbosity=verbosity, interactive=False, stdout=out)
    call_command(
        "migrate", app_label, migration_name, verbosity=verbosity, interactive=False, stdout=out
    )
    log(f"migrated {', '.join(others)}; {app_label} is at {migration_name}")


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    try:
        if argv[:1] == ["create"] and len(argv) == 1:
            cmd_create()
        elif argv[:1] == ["migrate"] and len(argv) == 3:
            cmd_migrate(argv[1], argv[2])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        raise
    except Exception as exc:  # one clear line, not a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
