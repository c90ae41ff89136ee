# A squashed migration: replaces 0001_initial and 0002_more (both still on disk).
from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-200"
    replaces = [("shop", "0001_initial"), ("shop", "0002_more")]
    operations = [
        migrations.CreateModel(
            name="Box",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("label", models.CharField(max_length=20)),
                ("size", models.IntegerField(null=True)),
            ],
        ),
    ]
