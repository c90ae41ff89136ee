# T-021 "Create orders and order_items tables (index for 'user order history')".

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-021"
    # The query pattern this index serves (dbgov resolves it in the query registry).
    dbgov_index_purpose = {"shop_orders_user_history_idx": "user order history"}

    dependencies = [
        ('shop', '0002_orders'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['user', '-created_at'], name='shop_orders_user_history_idx'),
        ),
    ]
