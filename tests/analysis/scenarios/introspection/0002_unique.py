from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-100"
    dependencies = [("shop", "0001_initial")]
    operations = [migrations.AlterUniqueTogether(name="thing", unique_together={("a", "b")})]
