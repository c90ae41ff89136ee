# Dropping a foreign key column makes Django look up the FK constraint's name.
from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-100"
    dependencies = [("shop", "0003_drop_unique")]
    operations = [
        migrations.AlterField(
            model_name="thing", name="a", field=models.BigIntegerField(db_index=True)
        ),
        migrations.RemoveField(model_name="thing", name="owner"),
    ]
