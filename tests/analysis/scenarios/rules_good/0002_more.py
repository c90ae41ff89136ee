from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-201"
    dbgov_index_purpose = {"customer_name_idx": "customer search by name"}
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddIndex("customer", models.Index(fields=["name"], name="customer_name_idx")),
        migrations.AddField("customer", "nickname", models.CharField(max_length=50, null=True)),
    ]
