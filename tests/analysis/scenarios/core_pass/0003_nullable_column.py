from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-400"
    dependencies = [("shop", "0002_new_table_with_index")]
    operations = [
        migrations.AddField("widget", "code", models.CharField(max_length=10, null=True)),
    ]
