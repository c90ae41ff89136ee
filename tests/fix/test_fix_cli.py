"""`dbgov fix` refuses clearly and leaves nothing half-written; --dry-run writes nothing."""

from __future__ import annotations

import hashlib

import pytest

from .conftest import ShopCopy, old_release, seed_orders

pytestmark = pytest.mark.django_db


def snapshot(shop: ShopCopy) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(shop.path.glob("*.py"))
    }


def test_an_applied_migration_is_refused(shop: ShopCopy):
    shop.migrate("shop", "0004_order_currency")
    before = snapshot(shop)
    code, out, err = shop.fix("shop", "0004", "--backfill-value", "EUR")
    assert code == 2
    assert "shop.0004_order_currency is applied" in err
    assert "never rewrites an applied migration" in err
    assert "Traceback" not in err
    assert snapshot(shop) == before


def test_a_not_null_field_without_default_needs_the_backfill_value(shop: ShopCopy):
    shop.migrate("shop", "0003_orders_user_history_index")
    before = snapshot(shop)
    code, out, err = shop.fix("shop", "0004")
    assert code == 2
    assert "order.currency has no default" in err and "--backfill-value" in err
    assert snapshot(shop) == before


def test_unknown_migration_and_nothing_to_rewrite(shop: ShopCopy):
    shop.migrate("shop", "0001_products")
    code, _, err = shop.fix("shop", "0099")
    assert code == 2 and "shop.0099" in err
    code, _, err = shop.fix("shop", "0011")
    assert code == 2 and "0011_order_shipping_address: no operation has findings to review" in err


def test_dry_run_prints_the_verified_files_and_writes_nothing(shop: ShopCopy):
    shop.migrate("shop", "0006_order_item_quantity_bigint")
    before = snapshot(shop)
    code, out, err = shop.fix("shop", "0007", "--dry-run")
    assert code == 0, err
    assert "would be replaced" in out
    assert (
        "sandbox: applied forwards, backwards, forwards again, the later migrations of the app"
        in out
    )
    assert "--- " in out and "AddIndexConcurrently(" in out and "atomic = False" in out
    assert snapshot(shop) == before


UNFIXABLE_NEIGHBOUR = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dbgov_task = "T-042"

        dependencies = [("shop", "0011_order_shipping_address")]

        operations = [
            migrations.AddIndex(
                model_name="order",
                index=models.Index(fields=["updated_at"], name="shop_orders_updated_idx"),
            ),
            migrations.RunSQL("TRUNCATE shop_order_items", migrations.RunSQL.noop),
        ]
"""


def test_a_rewrite_that_still_needs_review_is_undone(shop: ShopCopy):
    """The index is fixed, the TRUNCATE is kept and still flagged: nothing is written."""
    shop.migrate("shop", "0011_order_shipping_address")
    shop.add("0012_mixed", UNFIXABLE_NEIGHBOUR)
    before = snapshot(shop)
    code, out, err = shop.fix("shop", "0012")
    assert code == 2
    assert "still has findings that need review" in err and "truncate" in err
    assert snapshot(shop) == before


def test_every_flagged_migration_then_a_two_phase_deploy_with_rows(shop: ShopCopy):
    """`dbgov fix shop` rewrites what it can of the demo's hazards, says why it skips the
    rest, and the history then deploys in two phases while the old release writes."""
    shop.migrate("shop", "0003_orders_user_history_index")
    seed_orders(shop, 40)
    code, out, err = shop.fix("shop", "--backfill-value", "EUR")
    assert code == 1, out + err  # the post-deploy DROP COLUMN waits for a reviewer
    for original in ("0004_order_currency", "0006_order_item_quantity_bigint",
                     "0007_orders_status_index", "0008_remove_product_legacy_code"):  # fmt: skip
        assert f"shop.{original} replaced by" in out
        assert original not in shop.names()
    assert "not rewritten: shop.0005_rename_order_total: a later migration" in err
    assert "not rewritten: shop.0009_backfill_order_currency: no operation" in err
    assert "not rewritten: shop.0010_orders_total_check: no operation" in err

    assert "stopping before shop.0004_2_backfill_currency" in shop.migrate(phase="pre")
    user_id = shop.sql("SELECT id FROM auth_user")[0][0]
    Order = old_release(shop, "0003_orders_user_history_index", "Order")
    Order.objects.using(shop.database).create(status="new", total=3, user_id=user_id)

    shop.migrate(phase="post")
    assert shop.sql("SELECT count(*), count(currency) FROM shop_orders") == [(41, 41)]
    assert shop.sql(
        "SELECT count(*) FROM shop_order_items WHERE quantity_new IS DISTINCT FROM quantity"
    ) == [(0,)]
    assert shop.sql(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = 'shop_orders_status_created_idx'"
    ) == [(True,)]
