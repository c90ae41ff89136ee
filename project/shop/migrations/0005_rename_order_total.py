# T-035 "Name the order amount consistently". Hazard: renaming a column breaks the
# code still running against the old name during the deploy.

from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-035"

    dependencies = [
        ("shop", "0004_order_currency"),
    ]

    operations = [
        migrations.RenameField(
            model_name="order",
            old_name="total",
            new_name="total_amount",
        ),
    ]
