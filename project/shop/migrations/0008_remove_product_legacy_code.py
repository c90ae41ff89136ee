# T-038 "Retire the legacy product code". Hazard: DROP COLUMN breaks code that still
# selects the column (Django selects every field).

from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-038"

    dependencies = [
        ("shop", "0007_orders_status_index"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="product",
            name="legacy_code",
        ),
    ]
