from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
    operations = [
        migrations.CreateModel(
            name="Widget",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=20)),
                ("qty", models.IntegerField(null=True)),
                ("label", models.CharField(max_length=20, default="")),
            ],
        ),
        migrations.CreateModel(
            name="Gadget",
            fields=[("id", models.BigAutoField(primary_key=True, serialize=False))],
        ),
    ]
