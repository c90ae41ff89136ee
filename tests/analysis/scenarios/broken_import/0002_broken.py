from django.db import migrations

UNDEFINED_NAME_USED_AT_IMPORT  # noqa: B018, F821


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = []
