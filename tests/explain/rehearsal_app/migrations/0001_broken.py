# T-901 "A migration that fails half-way" (test fixture for the rehearsal worker).

from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-901"

    dependencies = [
        ("shop", "0002_orders"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE shop_orders ADD COLUMN rehearsal_note text",
            "ALTER TABLE shop_orders DROP COLUMN rehearsal_note",
        ),
        migrations.RunSQL("SELECT 1 / 0", migrations.RunSQL.noop),
    ]
