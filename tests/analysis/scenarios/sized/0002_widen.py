from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-141"
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AlterField(model_name="ledger", name="amount", field=models.BigIntegerField()),
        migrations.AddIndex(
            model_name="ledger", index=models.Index(fields=["amount"], name="shop_ledger_amount")
        ),
    ]
