from django.db import migrations


class NotReversible(migrations.operations.base.Operation):
    """An operation Django cannot reverse (reversible = False)."""

    reversible = False
    reduces_to_sql = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        return "An irreversible no-op"


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0013_no_task")]
    operations = [
        migrations.RunSQL(
            "DROP SCHEMA IF EXISTS legacy CASCADE", reverse_sql=migrations.RunSQL.noop
        ),
        NotReversible(),
        migrations.RemoveField("widget", "gadget"),
        migrations.DeleteModel("gadget"),
    ]
