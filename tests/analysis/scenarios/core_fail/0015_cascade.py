from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0014_delete")]
    operations = [
        migrations.AddField(
            "widget",
            "owner",
            models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE),
        ),
    ]
