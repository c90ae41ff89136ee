from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dbgov_task = "T-142"
    dependencies = [("shop", "0001_initial")]
    operations = [
        AddIndexConcurrently(
            model_name="ledger", index=models.Index(fields=["amount"], name="shop_ledger_amount")
        ),
    ]
