from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0005_set_not_null")]
    operations = [
        migrations.AlterField("widget", "qty", models.BigIntegerField()),
    ]
