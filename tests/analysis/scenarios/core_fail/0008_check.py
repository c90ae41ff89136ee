from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0007_fk")]
    operations = [
        migrations.AddConstraint(
            "widget",
            models.CheckConstraint(condition=models.Q(qty__gte=0), name="widget_qty_positive"),
        ),
    ]
