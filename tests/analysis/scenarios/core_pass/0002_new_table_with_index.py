from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-401"
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.CreateModel(
            name="Part",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("code", models.CharField(max_length=10)),
                ("gadget", models.ForeignKey("shop.gadget", on_delete=models.PROTECT)),
            ],
        ),
        migrations.AddIndex("part", models.Index(fields=["code"], name="part_code_idx")),
        migrations.AddField("part", "weight", models.IntegerField(default=0)),
    ]
