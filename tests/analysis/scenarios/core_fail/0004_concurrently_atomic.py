from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0003_index")]
    operations = [
        AddIndexConcurrently("widget", models.Index(fields=["label"], name="widget_label_idx")),
    ]
