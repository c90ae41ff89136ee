from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0009_drop_column")]
    operations = [
        migrations.RenameField("widget", "name", "title"),
    ]
