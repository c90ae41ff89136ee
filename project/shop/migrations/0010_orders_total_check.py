# T-040 "Refuse negative order totals". Hazard: raw SQL adds a CHECK constraint that
# is validated at once (ACCESS EXCLUSIVE while every row is scanned).

from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-040"

    dependencies = [
        ("shop", "0009_backfill_order_currency"),
    ]

    operations = [
        migrations.RunSQL(
            sql="ALTER TABLE shop_orders ADD CONSTRAINT shop_orders_total_amount_nonnegative CHECK (total_amount >= 0);",
            reverse_sql="ALTER TABLE shop_orders DROP CONSTRAINT shop_orders_total_amount_nonnegative;",
        ),
    ]
