from django.db import migrations, models


class Migration(migrations.Migration):
    dbgov_task = "T-400"
    dependencies = [("shop", "0005_widen_varchar")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE shop_widget ADD COLUMN gadget_id bigint NULL",
                    reverse_sql="ALTER TABLE shop_widget DROP COLUMN gadget_id",
                ),
                migrations.RunSQL(
                    "ALTER TABLE shop_widget ADD CONSTRAINT widget_gadget_fk FOREIGN KEY (gadget_id) "
                    "REFERENCES shop_gadget (id) NOT VALID",
                    reverse_sql="ALTER TABLE shop_widget DROP CONSTRAINT widget_gadget_fk",
                ),
            ],
            state_operations=[
                migrations.AddField(
                    "widget",
                    "gadget",
                    models.ForeignKey(
                        "shop.gadget",
                        null=True,
                        on_delete=models.SET_NULL,
                        db_constraint=False,
                        db_index=False,
                    ),
                ),
            ],
        ),
        migrations.RunSQL(
            "ALTER TABLE shop_widget ADD CONSTRAINT widget_qty_positive CHECK (qty >= 0) NOT VALID",
            reverse_sql="ALTER TABLE shop_widget DROP CONSTRAINT widget_qty_positive",
        ),
    ]
