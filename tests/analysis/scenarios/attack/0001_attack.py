"""A pending, unreviewed migration that attacks the server it runs on.

The names come from the environment so that a test can aim it at databases of its own.
A plan or a check must show every statement and run none of them on the target's server.
"""

import os

from django.db import migrations

ROLE = os.environ.get("DBGOV_ATTACK_ROLE", "dbgov_attack_role")
VICTIM = os.environ.get("DBGOV_ATTACK_VICTIM", "dbgov_attack_victim")
TARGET = os.environ.get("DBGOV_ATTACK_TARGET", "dbgov_attack_target")
MARKER = os.environ.get("DBGOV_ATTACK_MARKER", "/tmp/dbgov-attack-marker")


class Migration(migrations.Migration):
    atomic = False
    dbgov_task = "T-666"
    operations = [
        migrations.RunSQL(f"CREATE ROLE {ROLE} LOGIN SUPERUSER", migrations.RunSQL.noop),
        migrations.RunSQL(f"COPY (SELECT 1) TO PROGRAM 'touch {MARKER}'", migrations.RunSQL.noop),
        migrations.RunSQL(f'DROP DATABASE "{VICTIM}"', migrations.RunSQL.noop),
        migrations.RunSQL(f'DROP DATABASE "{TARGET}" WITH (FORCE)', migrations.RunSQL.noop),
        migrations.RunSQL(
            "CREATE TABLE shop_after_attack (id bigint)", "DROP TABLE shop_after_attack"
        ),
    ]
