# An unjustified index, and a data migration that imports the app's model, mixed
# with a schema change in one atomic migration.
from django.db import migrations, models

from project.shop.models import Product


def touch_products(apps, schema_editor):
    Product.objects.exists()


class Migration(migrations.Migration):
    dbgov_task = "T-201"
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddIndex("customer", models.Index(fields=["name"], name="customer_name_idx")),
        migrations.AddField("customer", "nickname", models.CharField(max_length=50, null=True)),
        migrations.AddField("customer", "score", models.IntegerField(null=True, db_index=True)),
        migrations.RunPython(touch_products, migrations.RunPython.noop),
    ]
