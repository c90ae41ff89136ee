from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0011_runpython")]
    operations = [
        migrations.RunSQL("TRUNCATE shop_gadget CASCADE"),
    ]
