from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-200"
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField(model_name="box", name="size", field=models.IntegerField(null=True))
    ]
