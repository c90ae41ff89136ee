from django.db import migrations


def forwards(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0010_rename")]
    operations = [
        migrations.RunPython(forwards),
    ]
