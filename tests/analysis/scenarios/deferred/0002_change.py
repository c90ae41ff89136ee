from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-101"
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AlterField(
            model_name="book",
            name="title",
            field=models.CharField(max_length=300, db_index=True),
        ),
        migrations.AlterField(
            model_name="shelf",
            name="code",
            field=models.CharField(max_length=30),
        ),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["shelf", "title"], name="book_shelf_title_idx"),
        ),
        migrations.RemoveField(model_name="shelf", name="favourite"),
        migrations.AddField(
            model_name="book",
            name="isbn",
            field=models.CharField(max_length=13, null=True, unique=True),
        ),
    ]
