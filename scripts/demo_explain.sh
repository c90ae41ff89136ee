#!/usr/bin/env bash
# The rehearsal demo: T-021's index on a staging database with 100K orders, rehearsed by a
# real Celery worker; the plans before and after are then in the admin.
#
#   scripts/demo_explain.sh [--reset-staging]
#
# Like scripts/demo.sh it creates/updates the virtualenv, makes PostgreSQL and Redis
# available (DATABASE_URL, STAGING_DATABASE_URL, REDIS_URL) and creates the databases when
# missing. It migrates dbgov's own tables on the default database (the shop app there is
# left as scripts/demo.sh keeps it), brings staging to shop 0002 with 100K orders
# (T-021's index migration 0003 pending), starts a worker and runs
# `manage.py dbgov explain --task T-021 --wait`.
#
# Staging is seeded only when empty; --reset-staging DROPS and recreates it first (it is
# the demo's disposable staging: never point STAGING_DATABASE_URL at a real one).
# Exit code: that of `dbgov explain --wait` (0 ok, 1 a human should look, 2 failed).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
# shellcheck source=scripts/services.sh
source scripts/services.sh
export DJANGO_SETTINGS_MODULE=project.settings

step() { printf '\n== %s ==\n' "$*" >&2; }

step "Databases"
python - "${1:-}" <<'PY'
import os, sys
import dj_database_url, psycopg
from psycopg import sql

reset = sys.argv[1] == "--reset-staging"
for var in ("DATABASE_URL", "STAGING_DATABASE_URL"):
    cfg = dj_database_url.parse(os.environ[var])
    with psycopg.connect(dbname="postgres", user=cfg.get("USER") or None,
                         password=cfg.get("PASSWORD") or None, host=cfg.get("HOST") or None,
                         port=cfg.get("PORT") or None, autocommit=True) as conn:
        name = cfg["NAME"]
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset and var == "STAGING_DATABASE_URL":
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"[dbgov demo] created database {name}", file=sys.stderr)
PY

step "dbgov's tables on the default database"
for app in contenttypes auth admin sessions dbgov; do
    python manage.py migrate "$app" -v0
done

step "Staging: shop at 0002 (T-021's index pending), 100K orders"
# Until the seeds area's `dbgov seed --env staging` lands, the shop's COPY loader does it.
if python manage.py shell -c "
from django.db import connections
with connections['staging'].cursor() as c:
    c.execute(\"SELECT to_regclass('shop_orders') IS NOT NULL\")
    seeded = c.fetchone()[0]
    if seeded:
        c.execute('SELECT EXISTS (SELECT 1 FROM shop_orders)')
        seeded = c.fetchone()[0]
raise SystemExit(0 if seeded else 1)" 2>/dev/null; then
    echo "[dbgov demo] staging already seeded (use --reset-staging to start over)" >&2
else
    python manage.py seed_orders --database staging --migrate-to 0002 --orders 100000
fi

step "A rehearsal worker (celery -A project worker -Q dbgov.rehearsal)"
celery -A project worker -Q dbgov.rehearsal -c 1 -l warning -n "demo-$$@%h" &
WORKER=$!
trap 'kill "$WORKER" 2>/dev/null || true; wait "$WORKER" 2>/dev/null || true' EXIT
sleep 5

step "manage.py dbgov explain --task T-021 --wait"
rc=0
python manage.py dbgov explain --task T-021 --wait || rc=$?
echo "[dbgov demo] the run is in the admin: python manage.py runserver, then /admin/dbgov/explainrun/" >&2
exit "$rc"
