# The table already exists in the database under raw SQL; only the state learns of it.
from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-200"
    dependencies = [("shop", "0001_squashed_0002")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE TABLE shop_crate (id bigint PRIMARY KEY, box_id bigint NOT NULL)",
                    reverse_sql="DROP TABLE shop_crate",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="Crate",
                    fields=[
                        ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                        (
                            "box",
                            models.ForeignKey(
                                on_delete=models.CASCADE, to="shop.box", db_constraint=False
                            ),
                        ),
                    ],
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="crate", index=models.Index(fields=["box"], name="crate_box_idx")
        ),
    ]
