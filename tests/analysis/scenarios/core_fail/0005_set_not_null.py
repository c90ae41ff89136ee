from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0004_concurrently_atomic")]
    operations = [
        migrations.AlterField("widget", "qty", models.IntegerField()),
    ]
