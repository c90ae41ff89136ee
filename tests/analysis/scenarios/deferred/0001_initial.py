"""Deferred SQL interleaved with immediate SQL: foreign keys, FK and _like indexes and the
unique constraints of CreateModel run at the end of the migration, after the RunSQL that
follows them in the file."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dbgov_task = "T-101"
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [
        migrations.CreateModel(
            name="Shelf",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("code", models.CharField(max_length=20, unique=True)),
                ("owner", models.ForeignKey(on_delete=models.PROTECT, to="auth.user")),
            ],
        ),
        migrations.CreateModel(
            name="Book",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=200, db_index=True)),
                ("shelf", models.ForeignKey(on_delete=models.PROTECT, to="shop.shelf")),
            ],
            options={"unique_together": {("title", "shelf")}},
        ),
        migrations.RunSQL(
            "COMMENT ON TABLE shop_book IS 'books'", "COMMENT ON TABLE shop_book IS NULL"
        ),
        migrations.AddField(
            model_name="shelf",
            name="favourite",
            field=models.ForeignKey(
                null=True, on_delete=models.SET_NULL, to="shop.book", related_name="+"
            ),
        ),
    ]
