#!/usr/bin/env bash
# End-to-end demo of a rehearsal: T-021's index on a staging database with 100K orders,
# rehearsed by a real Celery worker; the plans are then in the admin.
#
#   scripts/demo_explain.sh [--reset-staging]
#
# Uses DATABASE_URL, STAGING_DATABASE_URL and REDIS_URL (defaults: local dbgov_demo,
# dbgov_staging, Redis db 0). --reset-staging DROPS the staging database first: only
# ever point it at a disposable demo staging.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
CELERY=${CELERY:-.venv/bin/celery}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dbgov_demo}
export STAGING_DATABASE_URL=${STAGING_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dbgov_staging}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
RESET=${1:-}

"$PY" - "$RESET" <<'PYEOF'
import os, sys
from urllib.parse import urlsplit
import psycopg
from psycopg import sql

reset = sys.argv[1] == "--reset-staging"
for var in ("DATABASE_URL", "STAGING_DATABASE_URL"):
    url = urlsplit(os.environ[var])
    name = url.path.lstrip("/")
    with psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username,
                         password=url.password, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset and var == "STAGING_DATABASE_URL":
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}", file=sys.stderr)
PYEOF

echo "== dbgov's own database" >&2
"$PY" manage.py migrate -v0

echo "== staging: shop at 0002 (T-021's index pending), 100K orders" >&2
# Until the seeds area's `dbgov seed --env staging` lands, the shop's COPY loader does it.
if "$PY" manage.py shell -c "
from django.db import connections
with connections['staging'].cursor() as c:
    c.execute(\"SELECT to_regclass('shop_orders') IS NOT NULL AND EXISTS (SELECT 1 FROM django_migrations WHERE app='shop' AND name='0002_orders')\")
    ok = c.fetchone()[0]
    if ok:
        c.execute('SELECT count(*) FROM shop_orders'); ok = c.fetchone()[0] > 0
raise SystemExit(0 if ok else 1)" 2>/dev/null; then
  echo "staging already seeded" >&2
else
  "$PY" manage.py seed_orders --database staging --migrate-to 0002 --orders 100000
fi

echo "== a rehearsal worker" >&2
"$CELERY" -A project worker -Q dbgov.rehearsal -c 1 -l warning -n demo@%h &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT
sleep 5

echo "== dbgov explain --task T-021 --wait" >&2
"$PY" manage.py dbgov explain --task T-021 --wait
echo "Open /admin/dbgov/explainrun/ (manage.py runserver; createsuperuser) for the plans side by side." >&2
