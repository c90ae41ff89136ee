from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0002_add_not_null")]
    operations = [
        migrations.AddIndex("widget", models.Index(fields=["name"], name="widget_name_idx")),
    ]
