from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0008_check")]
    operations = [
        migrations.RemoveField("widget", "label"),
    ]
