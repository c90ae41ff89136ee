from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-200"
    operations = [
        migrations.CreateModel(
            name="Box",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("label", models.CharField(max_length=20)),
            ],
        ),
    ]
