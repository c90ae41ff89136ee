# T-036 "Allow wholesale quantities". Hazard: integer -> bigint rewrites the table
# under ACCESS EXCLUSIVE.

from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-036"

    dependencies = [
        ("shop", "0005_rename_order_total"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orderitem",
            name="quantity",
            field=models.BigIntegerField(),
        ),
    ]
