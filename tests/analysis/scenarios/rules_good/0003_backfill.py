from django.db import migrations


def touch_customers(apps, schema_editor):
    Customer = apps.get_model("shop", "Customer")
    Customer.objects.exists()


class Migration(migrations.Migration):
    dbgov_task = "T-202"
    dependencies = [("shop", "0002_more")]
    operations = [migrations.RunPython(touch_customers, migrations.RunPython.noop)]
