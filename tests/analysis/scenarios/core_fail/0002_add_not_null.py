from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("widget", "code", models.CharField(max_length=10)),
    ]
