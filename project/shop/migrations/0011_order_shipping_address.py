# T-041 "Keep the shipping address on the order". Safe: a nullable column is a
# catalog-only change; the column is flagged as personal data in its comment.

from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-041"

    dependencies = [
        ("shop", "0010_orders_total_check"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="shipping_address",
            field=models.TextField(blank=True, null=True, db_comment="PII: postal address"),
        ),
    ]
