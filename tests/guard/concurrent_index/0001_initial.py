from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dbgov_task = "T-140"
    dependencies: list[tuple[str, str]] = []
    operations = [
        migrations.CreateModel(
            name="Ledger",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("amount", models.IntegerField()),
            ],
        ),
    ]
