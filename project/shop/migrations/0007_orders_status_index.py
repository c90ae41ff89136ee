# T-037 "Speed up the back-office status filter". Hazard: a plain CREATE INDEX on a
# big table blocks writes (SHARE lock) for the whole build.

from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-037"
    dbgov_index_purpose = {"shop_orders_status_created_idx": "orders by status"}

    dependencies = [
        ("shop", "0006_order_item_quantity_bigint"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["status", "created_at"], name="shop_orders_status_created_idx"),
        ),
    ]
