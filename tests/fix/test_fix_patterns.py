"""`dbgov fix` on the demo project: each pattern from the unsafe migration to a verified
rewrite, then migrate forwards and backwards on a real database with rows."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from .conftest import ShopCopy, column, findings_needing_review, old_release, seed_orders

pytestmark = pytest.mark.django_db


def test_add_not_null_becomes_nullable_backfill_check_validate_set_not_null(shop: ShopCopy):
    shop.migrate("shop", "0003_orders_user_history_index")
    seed_orders(shop, 50)
    before = set(shop.names())

    code, out, err = shop.fix("shop", "0004", "--backfill-value", "EUR")
    assert code == 0, out + err
    steps = [
        "0004_1_add_currency_nullable",
        "0004_2_backfill_currency",
        "0004_3_currency_check_not_valid",
        "0004_4_currency_set_not_null",
    ]
    assert set(shop.names()) == before - {"0004_order_currency"} | set(steps)
    for name in steps:
        assert 'dbgov_task = "T-034"' in shop.text(name)
    assert 'dbgov_phase = "post"' not in shop.text(steps[0])
    assert all('dbgov_phase = "post"' in shop.text(n) for n in steps[1:])
    assert "atomic = False" in shop.text(steps[1])
    assert "dbgov.fix.runtime.Backfill('shop', 'order', 'currency', 'EUR')" in shop.text(steps[1])
    assert "NOT VALID" in shop.text(steps[2])
    assert '("shop", "0004_4_currency_set_not_null")' in shop.text("0005_rename_order_total")
    assert (
        "sandbox: applied forwards, backwards, forwards again, the later migrations of the app"
        in out
    )
    assert "re-plan: no finding needs review" in out
    assert findings_needing_review(shop, steps[-1], steps) == []
    # fix ran nothing on the target: no new column, no new applied migration.
    assert column(shop, "shop_orders", "currency") is None
    assert shop.sql("SELECT max(name) FROM django_migrations WHERE app = 'shop'") == [
        ("0003_orders_user_history_index",)
    ]

    # Before the deploy: only the nullable column; the running release keeps inserting.
    migrated = shop.migrate(phase="pre")
    assert "stopping before shop.0004_2_backfill_currency" in migrated
    Order = old_release(shop, "0003_orders_user_history_index", "Order")
    Order.objects.using(shop.database).create(
        status="new", total=5, user_id=shop.sql("SELECT id FROM auth_user")[0][0]
    )
    assert shop.sql("SELECT count(*) FROM shop_orders WHERE currency IS NULL") == [(51,)]

    # After the deploy: backfill, NOT NULL, the helper check gone.
    shop.migrate("shop", steps[-1])
    assert shop.sql(
        "SELECT count(*), count(*) FILTER (WHERE currency = 'EUR') FROM shop_orders"
    ) == [(51, 51)]
    assert column(shop, "shop_orders", "currency") == ("character varying", "NO")
    assert (
        shop.sql(
            "SELECT conname FROM pg_constraint WHERE conname = 'shop_orders_currency_not_null'"
        )
        == []
    )

    shop.migrate("shop", "0003_orders_user_history_index")
    assert column(shop, "shop_orders", "currency") is None
    assert shop.sql("SELECT count(*) FROM shop_orders") == [(51,)]


def test_add_index_is_built_concurrently_and_valid(shop: ShopCopy):
    shop.migrate("shop", "0006_order_item_quantity_bigint")
    seed_orders(shop, 30)
    code, out, err = shop.fix("shop", "0007")
    assert code == 0, out + err
    name = "0007_1_shop_orders_status_created_idx_concurrently"
    text = shop.text(name)
    assert "AddIndexConcurrently" in text and "atomic = False" in text
    assert "dbgov_index_purpose = {'shop_orders_status_created_idx': 'orders by status'}" in text
    assert findings_needing_review(shop, name, [name]) == []

    shop.migrate("shop", name)
    assert shop.sql(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = 'shop_orders_status_created_idx'"
    ) == [(True,)]
    shop.migrate("shop", "0006_order_item_quantity_bigint")
    assert shop.sql("SELECT 1 FROM pg_class WHERE relname = 'shop_orders_status_created_idx'") == []
    assert shop.sql("SELECT count(*) FROM shop_orders") == [(30,)]


UNIQUE_AND_DB_INDEX = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0011_order_shipping_address")]

        operations = [
            migrations.AddConstraint(
                model_name="orderitem",
                constraint=models.UniqueConstraint(
                    fields=["order", "product"], name="shop_order_items_order_product_uniq"
                ),
            ),
            migrations.AlterField(
                model_name="order",
                name="status",
                field=models.CharField(db_index=True, default="new", max_length=20),
            ),
        ]
"""


def test_unique_constraint_and_db_index_use_concurrent_indexes(shop: ShopCopy):
    shop.migrate("shop", "0011_order_shipping_address")
    seed_orders(shop, 40)
    shop.add("0012_unique_items", UNIQUE_AND_DB_INDEX)
    code, out, err = shop.fix("shop", "0012")
    assert code == 1, out + err  # the new uniqueness itself stays for a reviewer
    assert "add-unique-index: the uniqueness is what the migration asks for" in out
    steps = [
        "0012_1_shop_order_items_order_product_uniq_index_concurrently",
        "0012_2_shop_order_items_order_product_uniq_attach",
        "0012_3_status_index_concurrently",
    ]
    assert [n for n in shop.names() if n.startswith("0012")] == steps
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in shop.text(steps[0])
    assert "UNIQUE USING INDEX" in shop.text(steps[1])
    assert "atomic = False" in shop.text(steps[0]) and "atomic = False" in shop.text(steps[2])
    assert findings_needing_review(shop, steps[-1], steps) == [f"{steps[0]} add-unique-index"]

    shop.migrate("shop", steps[-1])
    assert shop.sql(
        "SELECT contype, convalidated FROM pg_constraint "
        "WHERE conname = 'shop_order_items_order_product_uniq'"
    ) == [("u", True)]
    assert shop.sql(
        "SELECT bool_and(i.indisvalid), count(*) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_attribute a "
        "ON a.attrelid = c.oid AND a.attnum = i.indkey[0] "
        "WHERE c.relname = 'shop_orders' AND a.attname = 'status' AND i.indnatts = 1"
    ) == [(True, 2)]  # Django's status index and its _like twin for varchar
    shop.migrate("shop", "0011_order_shipping_address")
    assert (
        shop.sql(
            "SELECT 1 FROM pg_constraint WHERE conname = 'shop_order_items_order_product_uniq'"
        )
        == []
    )
    assert shop.sql("SELECT count(*) FROM shop_order_items") == [(40,)]


CHECK_AND_FK = """
    import django.db.models.deletion
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0011_order_shipping_address")]

        operations = [
            migrations.AddConstraint(
                model_name="orderitem",
                constraint=models.CheckConstraint(
                    condition=models.Q(quantity__gte=0), name="shop_order_items_quantity_nonneg"
                ),
            ),
            migrations.AddField(
                model_name="orderitem",
                name="replacement",
                field=models.ForeignKey(
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="+",
                    to="shop.product",
                ),
            ),
        ]
"""


def test_check_and_foreign_key_are_added_not_valid_then_validated(shop: ShopCopy):
    shop.migrate("shop", "0011_order_shipping_address")
    seed_orders(shop, 40)
    shop.add("0012_item_checks", CHECK_AND_FK)
    code, out, err = shop.fix("shop", "0012")
    assert code == 0, out + err
    steps = [n for n in shop.names() if n.startswith("0012")]
    assert steps == [
        "0012_1_shop_order_items_quantity_nonneg_not_valid",
        "0012_2_validate_shop_order_items_quantity_nonneg",
        "0012_3_add_replacement_not_valid",
        "0012_4_replacement_index_concurrently",
        "0012_5_validate_replacement_fk",
    ]
    assert "NOT VALID" in shop.text(steps[0]) and "NOT VALID" in shop.text(steps[2])
    assert "VALIDATE CONSTRAINT" in shop.text(steps[1])
    assert findings_needing_review(shop, steps[-1], steps) == []

    shop.migrate("shop", steps[-1])
    assert shop.sql(
        "SELECT conname, contype, convalidated FROM pg_constraint "
        "WHERE conrelid = 'shop_order_items'::regclass AND conname IN "
        "('shop_order_items_quantity_nonneg', 'shop_order_items_replacement_id_fk') "
        "ORDER BY conname"
    ) == [
        ("shop_order_items_quantity_nonneg", "c", True),
        ("shop_order_items_replacement_id_fk", "f", True),
    ]
    assert shop.sql(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = 'shop_order_items_replacement_id_idx'"
    ) == [(True,)]
    # The constraints hold for new rows.
    with pytest.raises(Exception, match="shop_order_items_quantity_nonneg"):
        shop.sql("UPDATE shop_order_items SET quantity = -1")
    shop.migrate("shop", "0011_order_shipping_address")
    assert column(shop, "shop_order_items", "replacement_id") is None
    assert shop.sql("SELECT count(*) FROM shop_order_items") == [(40,)]


RENAMES = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0012_coupon")]

        operations = [
            migrations.RenameField(
                model_name="order", old_name="shipping_address", new_name="delivery_address"
            ),
            migrations.RenameModel(old_name="Coupon", new_name="Voucher"),
        ]
"""

COUPON = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0011_order_shipping_address")]

        operations = [
            migrations.CreateModel(
                name="Coupon",
                fields=[
                    ("id", models.BigAutoField(primary_key=True, serialize=False)),
                    ("code", models.CharField(max_length=20)),
                    ("created_at", models.DateTimeField(auto_now_add=True)),
                    ("updated_at", models.DateTimeField(auto_now=True)),
                ],
            ),
        ]
"""


def test_renames_keep_the_column_and_table_names(shop: ShopCopy):
    shop.add("0012_coupon", COUPON)
    shop.migrate("shop", "0012_coupon")
    seed_orders(shop, 20)
    shop.sql("UPDATE shop_orders SET shipping_address = 'street ' || id")
    shop.sql("INSERT INTO shop_coupon (code, created_at, updated_at) VALUES ('HALF', now(), now())")
    shop.add("0013_renames", RENAMES)
    code, out, err = shop.fix("shop", "0013")
    assert code == 0, out + err
    steps = [
        "0013_1_rename_shipping_address_delivery_address_state_only",
        "0013_2_rename_coupon_voucher_state_only",
    ]
    assert [n for n in shop.names() if n.startswith("0013")] == steps
    assert "db_column='shipping_address'" in shop.text(steps[0])
    assert "AlterModelTable(" in shop.text(steps[1]) and "table='shop_coupon'" in shop.text(
        steps[1]
    )
    assert all("database_operations" not in shop.text(n) for n in steps)  # no SQL at all
    assert "by hand: models.py: give Order.delivery_address db_column='shipping_address'" in out
    assert "by hand: models.py: give Voucher Meta.db_table = 'shop_coupon'" in out
    assert findings_needing_review(shop, steps[-1], steps) == []

    shop.migrate("shop", steps[-1])
    assert column(shop, "shop_orders", "shipping_address") is not None
    assert column(shop, "shop_orders", "delivery_address") is None
    # The running release (old names) and the new one share the column and the table.
    old_release(shop, "0012_coupon", "Coupon").objects.using(shop.database).create(code="OLD")
    Voucher = old_release(shop, steps[-1], "Voucher")
    assert sorted(Voucher.objects.using(shop.database).values_list("code", flat=True)) == [
        "HALF",
        "OLD",
    ]
    Order = old_release(shop, steps[-1], "Order")
    assert (
        Order.objects.using(shop.database).filter(delivery_address__startswith="street").count()
        == 20
    )
    shop.migrate("shop", "0012_coupon")
    assert shop.sql("SELECT count(*) FROM shop_coupon") == [(2,)]


def test_a_rename_that_later_raw_sql_contradicts_is_refused(shop: ShopCopy):
    """0010's raw SQL names the column total_amount: keeping `total` would break it."""
    shop.migrate("shop", "0004_order_currency")
    before = sorted(shop.names())
    code, out, err = shop.fix("shop", "0005")
    assert code == 2
    assert "shop.0005_rename_order_total: a later migration of the app fails after" in err
    assert 'in shop.0010_orders_total_check: ProgrammingError: column "total_amount"' in err
    assert sorted(shop.names()) == before
    assert '("shop", "0004_order_currency")' in shop.text("0005_rename_order_total")


def test_remove_field_now_in_state_later_in_the_database(shop: ShopCopy):
    shop.migrate("shop", "0007_orders_status_index")
    seed_orders(shop, 10)
    code, out, err = shop.fix("shop", "0008")
    assert code == 1, out + err  # the DROP COLUMN remains for a reviewer, explained
    steps = ["0008_1_remove_legacy_code_state_only", "0008_2_drop_legacy_code_column"]
    assert [n for n in shop.names() if n.startswith("0008")] == steps
    assert "drop-column: post-deploy" in out
    assert 'dbgov_phase = "post"' in shop.text(steps[1])
    assert findings_needing_review(shop, steps[-1], steps) == [f"{steps[1]} drop-column"]

    migrated = shop.migrate(phase="pre")
    assert f"stopping before shop.{steps[1]}" in migrated
    assert column(shop, "shop_products", "legacy_code") == ("character varying", "YES")
    # Both releases insert products while the column exists.
    old_release(shop, "0007_orders_status_index", "Product").objects.using(shop.database).create(
        sku="OLD", name="old release", price=1, legacy_code="L-OLD"
    )
    old_release(shop, steps[0], "Product").objects.using(shop.database).create(
        sku="NEW", name="new release", price=1
    )
    shop.migrate("shop", steps[1], phase="post")
    assert column(shop, "shop_products", "legacy_code") is None
    assert shop.sql("SELECT count(*) FROM shop_products") == [(7,)]
    shop.migrate("shop", "0007_orders_status_index")
    assert column(shop, "shop_products", "legacy_code") == ("character varying", "NO")
    assert shop.sql("SELECT count(*) FROM shop_products") == [(7,)]


def test_type_change_adds_a_new_column_and_copies_every_row(shop: ShopCopy):
    shop.migrate("shop", "0005_rename_order_total")
    seed_orders(shop, 60)
    code, out, err = shop.fix("shop", "0006")
    assert code == 0, out + err
    steps = ["0006_1_add_quantity_new", "0006_2_copy_quantity_to_quantity_new"]
    assert [n for n in shop.names() if n.startswith("0006")] == steps
    assert "dbgov.fix.runtime.CopyColumn('shop', 'orderitem', 'quantity', 'quantity_new')" in (
        shop.text(steps[1])
    )
    assert "by hand: then the swap" in out
    assert findings_needing_review(shop, steps[-1], steps) == []

    shop.migrate("shop", steps[-1])
    assert column(shop, "shop_order_items", "quantity_new") == ("bigint", "YES")
    assert column(shop, "shop_order_items", "quantity") == ("integer", "NO")
    assert shop.sql(
        "SELECT count(*), count(*) FILTER (WHERE quantity_new = quantity) FROM shop_order_items"
    ) == [(60, 60)]
    shop.migrate("shop", "0005_rename_order_total")
    assert column(shop, "shop_order_items", "quantity_new") is None
    assert shop.sql("SELECT count(*) FROM shop_order_items") == [(60,)]


ONE_OFF_DEFAULT = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0011_order_shipping_address")]

        operations = [
            migrations.AddField(
                model_name="order",
                name="channel",
                field=models.CharField(default="web", max_length=10),
                preserve_default=False,
            ),
        ]
"""


def test_a_one_off_default_fills_the_rows_and_leaves_the_same_state(shop: ShopCopy):
    """makemigrations' one-off default: no --backfill-value needed, and the project state
    after the steps is the state the original migration made."""
    shop.migrate("shop", "0011_order_shipping_address")
    seed_orders(shop, 25)
    shop.add("0012_order_channel", ONE_OFF_DEFAULT)
    loader = MigrationLoader(connections[shop.database])
    original = loader.project_state(("shop", "0012_order_channel")).models["shop", "order"]

    code, out, err = shop.fix("shop", "0012")
    assert code == 0, out + err
    last = "0012_4_channel_set_not_null"
    loader = MigrationLoader(connections[shop.database])
    rewritten = loader.project_state(("shop", last)).models["shop", "order"]
    assert rewritten.fields["channel"].deconstruct() == original.fields["channel"].deconstruct()

    shop.migrate("shop", last)
    assert shop.sql(
        "SELECT count(*) FILTER (WHERE channel = 'web'), count(*) FROM shop_orders"
    ) == [(25, 25)]
    assert column(shop, "shop_orders", "channel") == ("character varying", "NO")
    assert shop.sql(
        "SELECT column_default FROM information_schema.columns "
        "WHERE table_name = 'shop_orders' AND column_name = 'channel'"
    ) == [(None,)]


DELETE_COUPON = """
    from django.db import migrations


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0012_coupon")]

        operations = [migrations.DeleteModel(name="Coupon")]
"""


def test_delete_model_now_in_state_the_table_after_the_deploy(shop: ShopCopy):
    shop.add("0012_coupon", COUPON)
    shop.migrate("shop", "0012_coupon")
    shop.sql("INSERT INTO shop_coupon (code, created_at, updated_at) VALUES ('HALF', now(), now())")
    shop.add("0013_delete_coupon", DELETE_COUPON)
    code, out, err = shop.fix("shop", "0013")
    assert code == 1, out + err  # DROP TABLE remains for reviewers, explained
    steps = ["0013_1_delete_coupon_state_only", "0013_2_drop_coupon_table"]
    assert [n for n in shop.names() if n.startswith("0013")] == steps
    assert "drop-table: post-deploy" in out

    assert f"stopping before shop.{steps[1]}" in shop.migrate(phase="pre")
    # The running release still reads and writes the table between the phases.
    Coupon = old_release(shop, "0012_coupon", "Coupon")
    Coupon.objects.using(shop.database).create(code="OLD")
    assert Coupon.objects.using(shop.database).count() == 2
    shop.migrate(phase="post")
    assert shop.sql("SELECT to_regclass('shop_coupon')") == [(None,)]
    shop.migrate("shop", "0012_coupon")
    assert shop.sql("SELECT count(*) FROM shop_coupon") == [(0,)]  # back, empty: data is gone


UNIQUE_FIELD = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0011_order_shipping_address")]

        operations = [
            migrations.AlterField(
                model_name="product", name="name", field=models.CharField(max_length=200, unique=True)
            ),
        ]
"""

NOT_UNIQUE_AGAIN = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0012_2_name_unique_attach")]

        operations = [
            migrations.AlterField(
                model_name="product", name="name", field=models.CharField(max_length=200)
            ),
        ]
"""


def test_unique_field_is_built_concurrently_under_djangos_names(shop: ShopCopy):
    shop.migrate("shop", "0011_order_shipping_address")
    seed_orders(shop, 5)
    shop.add("0012_unique_product_name", UNIQUE_FIELD)
    code, out, err = shop.fix("shop", "0012")
    assert code == 1, out + err  # add-unique-index remains, explained
    steps = ["0012_1_name_unique_index_concurrently", "0012_2_name_unique_attach"]
    assert [n for n in shop.names() if n.startswith("0012")] == steps
    assert findings_needing_review(shop, steps[-1], steps) == [f"{steps[0]} add-unique-index"]

    shop.migrate("shop", steps[-1])
    constraints = shop.sql(
        "SELECT c.conname, c.convalidated FROM pg_constraint c "
        "WHERE c.conrelid = 'shop_products'::regclass AND c.contype = 'u' "
        "AND c.conname LIKE 'shop_products_name_%%_uniq'"
    )
    assert len(constraints) == 1 and constraints[0][1] is True
    assert shop.sql(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname LIKE 'shop_products_name_%%_like'"
    ) == [(True,)]
    # Django's own AlterField(unique=False) finds both by introspection and drops them.
    shop.add("0013_product_name_not_unique", NOT_UNIQUE_AGAIN)
    shop.migrate("shop", "0013_product_name_not_unique")
    assert shop.sql(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'shop_products'::regclass "
        "AND contype = 'u' AND conname LIKE 'shop_products_name_%%'"
    ) == [(0,)]
    shop.migrate("shop", "0011_order_shipping_address")
    assert shop.sql("SELECT count(*) FROM shop_products") == [(5,)]


SET_NOT_NULL = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0011_order_shipping_address")]

        operations = [
            migrations.AlterField(
                model_name="order",
                name="shipping_address",
                field=models.TextField(blank=True, default="", db_comment="PII: postal address"),
            ),
        ]
"""


def test_alter_field_not_null_backfills_then_validates(shop: ShopCopy):
    shop.migrate("shop", "0011_order_shipping_address")
    seed_orders(shop, 30)
    shop.sql("UPDATE shop_orders SET shipping_address = 'street' WHERE id %% 2 = 0")
    shop.add("0012_shipping_address_not_null", SET_NOT_NULL)
    code, out, err = shop.fix("shop", "0012")
    assert code == 0, out + err
    steps = [
        "0012_1_backfill_shipping_address",
        "0012_2_shipping_address_check_not_valid",
        "0012_3_shipping_address_set_not_null",
    ]
    assert [n for n in shop.names() if n.startswith("0012")] == steps
    assert all('dbgov_phase = "post"' in shop.text(n) for n in steps)
    assert findings_needing_review(shop, steps[-1], steps) == []

    shop.migrate("shop", steps[-1])
    assert column(shop, "shop_orders", "shipping_address") == ("text", "NO")
    assert shop.sql(
        "SELECT count(*) FILTER (WHERE shipping_address = ''), "
        "count(*) FILTER (WHERE shipping_address = 'street') FROM shop_orders"
    ) == [(15, 15)]
    shop.migrate("shop", "0011_order_shipping_address")
    assert column(shop, "shop_orders", "shipping_address") == ("text", "YES")
