# T-034 "Record the order currency". Hazard: a NOT NULL column without a default
# on an existing table fails on the first existing row and holds ACCESS EXCLUSIVE.

from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-034"

    dependencies = [
        ("shop", "0003_orders_user_history_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="currency",
            field=models.CharField(max_length=3),
        ),
    ]
