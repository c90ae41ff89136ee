# Django looks the constraint up in the database to drop it: its SQL depends on the
# pending 0002 having run.
from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-100"
    dependencies = [("shop", "0002_unique")]
    operations = [migrations.AlterUniqueTogether(name="thing", unique_together=set())]
