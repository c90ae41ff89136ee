#!/usr/bin/env bash
# Run dbgov's demo: `manage.py dbgov plan` over the demo project's pending migrations.
#
#   scripts/demo.sh [dbgov plan arguments]     e.g. scripts/demo.sh --format json
#
# Creates/updates the virtualenv (scripts/bootstrap.sh), makes PostgreSQL and Redis
# available (scripts/services.sh), creates the demo databases when missing, migrates
# everything except the demo shop app's later history (shop stays at 0001_products, so
# T-021 and the hazard tasks T-034 ... T-041 are pending), then prints their plan.
#
# The plan goes to stdout; everything else goes to stderr, so
# `scripts/demo.sh --format json > plan.json` keeps the JSON clean.
# Exit code: 0 when the demo ran (also when the plan has findings that need review:
# showing them is the point), 2 when something failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
# shellcheck source=scripts/services.sh
source scripts/services.sh
export DJANGO_SETTINGS_MODULE=project.settings

# The demo shop app stays at this migration; everything after it is what the demo shows.
DEMO_APP=shop
DEMO_APP_START=0001_products

step() {
    if [[ -t 2 && -z "${NO_COLOR:-}" ]]; then
        printf '\n\033[1m== %s ==\033[0m\n' "$*" >&2
    else
        printf '\n== %s ==\n' "$*" >&2
    fi
}

# --- the demo's steps: each one a function, run in order at the bottom -----------------

demo_databases() {
    step "Demo databases"
    python scripts/demo_db.py create
}

demo_migrate() {
    step "Migrate everything except ${DEMO_APP}'s pending history (${DEMO_APP} stays at ${DEMO_APP_START})"
    python scripts/demo_db.py migrate "$DEMO_APP" "$DEMO_APP_START"
}

demo_plan() {
    step "manage.py dbgov plan $*"
    local rc=0
    # As `python manage.py dbgov plan "$@"`, except that a crash (Python's own exit 1 with a
    # traceback) exits 2, so that it is never mistaken for "findings need review".
    python - "$@" <<'PY' || rc=$?
import sys
import traceback

from django.core.management import execute_from_command_line

try:
    execute_from_command_line(["manage.py", "dbgov", "plan", *sys.argv[1:]])
except Exception:
    traceback.print_exc()
    sys.exit(2)
PY
    case "$rc" in
        0) ;;
        1)
            # "Findings need review": that is what the demo shows, not a failure.
            step "dbgov plan exited 1: the findings above need a reviewer (expected in the demo)"
            rc=0
            ;;
        *) echo "[dbgov demo] error: dbgov plan failed (exit $rc)" >&2 ;;
    esac
    return "$rc"
}

# --- run them ------------------------------------------------------------------------------
# Later steps (seeding staging, approvals, the rehearsal) slot in here, in order.
demo_databases
demo_migrate
demo_plan "$@"
