from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-400"
    atomic = False
    dependencies = [("shop", "0003_nullable_column")]
    operations = [
        AddIndexConcurrently("widget", models.Index(fields=["name"], name="widget_name_idx")),
    ]
