from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-400"
    dependencies = [("shop", "0006_fk_not_valid")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("widget", "legacy")],
        ),
    ]
