"""The backfill and column copy the written migrations call: batches of
BACKFILL_BATCH_SIZE rows, only the rows still missing, on the migration's connection."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from dbgov.fix.runtime import Backfill, CopyColumn

from .conftest import ShopCopy, seed_orders

pytestmark = pytest.mark.django_db


def updates_while(shop: ShopCopy, call) -> int:
    """How many UPDATE statements ``call`` sends on the scratch connection."""
    sent: list[str] = []

    def count(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE"):
            sent.append(sql)
        return execute(sql, params, many, context)

    connection = connections[shop.database]
    with connection.execute_wrapper(count), connection.schema_editor(atomic=False) as editor:
        call(editor)
    return len(sent)


def test_backfill_runs_in_batches_and_only_where_null(shop: ShopCopy):
    shop.migrate("shop", "0011_order_shipping_address")
    seed_orders(shop, 50)
    shop.sql(
        "UPDATE shop_orders SET shipping_address = 'kept' WHERE id <= (SELECT min(id) + 9 FROM shop_orders)"
    )
    apps = MigrationLoader(connections[shop.database]).project_state().apps
    backfill = Backfill("shop", "order", "shipping_address", "filled")
    with override_settings(DBGOV={"BACKFILL_BATCH_SIZE": 7}):
        sent = updates_while(shop, lambda editor: backfill(apps, editor))
    assert sent == 7  # 40 NULL rows: 6 full batches, 1 of 5 rows, then 1 that changes none
    assert shop.sql("SELECT shipping_address, count(*) FROM shop_orders GROUP BY 1 ORDER BY 1") == [
        ("filled", 40),
        ("kept", 10),
    ]
    assert backfill == Backfill("shop", "order", "shipping_address", "filled")
    assert backfill.deconstruct()[0] == "dbgov.fix.runtime.Backfill"


def test_copy_column_casts_and_skips_rows_already_copied(shop: ShopCopy):
    shop.migrate("shop", "0005_rename_order_total")
    seed_orders(shop, 20)
    shop.sql("ALTER TABLE shop_order_items ADD COLUMN quantity_new bigint NULL")
    shop.sql("UPDATE shop_order_items SET quantity_new = -1 WHERE quantity <= 5")
    state = MigrationLoader(connections[shop.database]).project_state()
    from django.db import models
    from django.db.migrations import AddField

    AddField("orderitem", "quantity_new", models.BigIntegerField(null=True)).state_forwards(
        "shop", state
    )
    copy = CopyColumn("shop", "orderitem", "quantity", "quantity_new", batch_size=6)
    assert updates_while(shop, lambda editor: copy(state.apps, editor)) == 4  # 15 rows: 6+6+3, 0
    assert shop.sql(
        "SELECT count(*) FILTER (WHERE quantity_new = -1), "
        "count(*) FILTER (WHERE quantity_new = quantity) FROM shop_order_items"
    ) == [(5, 15)]
