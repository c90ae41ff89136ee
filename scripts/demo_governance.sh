#!/usr/bin/env bash
# The governance loop on the demo project, against the database of DATABASE_URL:
# plan stores, check fails, a DBA approves, check passes, migrate applies; editing
# an applied migration makes check fail again. Restores the edited file on exit.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/dbgov_demo scripts/demo_governance.sh
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
M="$PY manage.py"
FILE=project/shop/migrations/0010_orders_total_check.py
cp "$FILE" "$FILE.demo-backup"
trap 'mv "$FILE.demo-backup" "$FILE"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; echo "(exit $?)"; }

step $M migrate --no-input -v 0
step $M migrate shop 0009 -v 1                      # T-040 and T-041 become pending
step $M loaddata dbgov_demo_tasks
$M shell -c "
from django.contrib.auth.models import User
for name in ('dba', 'dev'):
    User.objects.filter(username=name).exists() or User.objects.create_user(name, password=name, is_staff=True)
"
step $M dbgov roles --add dba
step $M dbgov tasks
step $M dbgov plan --no-sql                         # stores the plan: exit 1 (needs review)
step $M dbgov check                                 # exit 1: lacks an approval
DBGOV_ENFORCE_ON_MIGRATE=1 step $M migrate shop      # refused, names the finding
DBGOV_APPROVER_PASSWORD=dba step $M dbgov approve --task T-040 --as dba --reason "orders is small; validated in 40 ms on staging"
step $M dbgov check                                 # exit 0
DBGOV_ENFORCE_ON_MIGRATE=1 step $M migrate shop      # applies; the ledger records the sha256
step $M dbgov tasks
echo "# edited after it was applied" >> "$FILE"
step $M dbgov check                                 # exit 1: applied-migration-changed
