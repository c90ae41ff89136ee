from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0006_type")]
    operations = [
        migrations.AddField(
            "widget",
            "gadget",
            models.ForeignKey("shop.gadget", null=True, on_delete=models.SET_NULL),
        ),
    ]
