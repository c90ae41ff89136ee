from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dbgov_task = "T-100"
    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
    operations = [
        migrations.CreateModel(
            name="Thing",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("a", models.IntegerField()),
                ("b", models.IntegerField()),
                ("owner", models.ForeignKey(on_delete=models.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
        ),
    ]
