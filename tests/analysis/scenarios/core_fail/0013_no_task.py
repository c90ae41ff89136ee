from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0012_runsql")]
    operations = [
        migrations.AddField("widget", "note", models.TextField(null=True)),
    ]
