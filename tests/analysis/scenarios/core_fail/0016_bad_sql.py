from django.db import migrations


class Migration(migrations.Migration):
    dbgov_task = "T-300"
    dependencies = [("shop", "0015_cascade")]
    operations = [
        migrations.RunSQL("ALTER TABLE shop_widget ADD COLUMN", reverse_sql=migrations.RunSQL.noop),
    ]
