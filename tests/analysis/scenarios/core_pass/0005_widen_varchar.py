from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-400"
    dependencies = [("shop", "0004_index_concurrently")]
    operations = [
        migrations.AlterField("widget", "name", models.CharField(max_length=40)),
    ]
