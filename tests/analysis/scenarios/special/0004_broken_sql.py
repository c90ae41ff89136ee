# The first statement fails on the database; the rest of the migration still renders.
from django.db import migrations, models


def forwards(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("shop", "0003_separate")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE shop_no_such_table ADD COLUMN x integer",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunPython(forwards),
        migrations.AddField(model_name="box", name="weight", field=models.IntegerField(null=True)),
    ]
