"""Before / after the deploy: each migration's phase, `plan --phase`, `migrate --phase`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ModelState, ProjectState

from dbgov.analysis.errors import AnalysisError
from dbgov.analysis.phases import classify, phases_of

from .conftest import ShopCopy

pytestmark = pytest.mark.django_db


def demo_phases(shop: ShopCopy) -> dict[str, str]:
    loader = MigrationLoader(connections[shop.database])
    keys = [k for k in loader.disk_migrations if k[0] == "shop"]
    return {k[1]: d.phase for k, d in sorted(phases_of(loader, keys).items())}


def test_the_demo_history_phases(shop: ShopCopy):
    assert demo_phases(shop) == {
        "0001_products": "pre",
        "0002_orders": "pre",
        "0003_orders_user_history_index": "pre",
        "0004_order_currency": "post",  # NOT NULL without a database default
        "0005_rename_order_total": "post",  # the old release uses the old name
        "0006_order_item_quantity_bigint": "pre",
        "0007_orders_status_index": "pre",
        "0008_remove_product_legacy_code": "post",
        "0009_backfill_order_currency": "pre",
        "0010_orders_total_check": "pre",
        "0011_order_shipping_address": "pre",
    }


def test_the_file_overrides_the_phase_and_a_bad_value_is_named(shop: ShopCopy):
    text = shop.text("0011_order_shipping_address")
    shop.add(
        "0011_order_shipping_address",
        text.replace('dbgov_task = "T-041"', 'dbgov_task = "T-041"\n    dbgov_phase = "post"'),
    )
    assert demo_phases(shop)["0011_order_shipping_address"] == "post"
    shop.add(
        "0011_order_shipping_address",
        text.replace('dbgov_task = "T-041"', 'dbgov_task = "T-041"\n    dbgov_phase = "later"'),
    )
    with pytest.raises(AnalysisError, match="0011_order_shipping_address: dbgov_phase = 'later'"):
        demo_phases(shop)


def test_plan_shows_and_filters_the_phase(shop: ShopCopy):
    shop.migrate("shop", "0001_products")
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "dbgov", "plan", "--no-save", "--database", shop.database, "--phase", "pre",
            "--format", "json", stdout=out, stderr=StringIO(),
        )  # fmt: skip
    doc = json.loads(out.getvalue())
    assert [(m["name"], m["phase"]) for m in doc["migrations"]] == [
        ("0002_orders", "pre"),
        ("0003_orders_user_history_index", "pre"),
    ]
    assert {f["migration"] for f in doc["findings"]} <= {"0002_orders"}

    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "dbgov", "plan", "--no-save", "--database", shop.database, "--phase", "post",
            "--no-sql", stdout=out, stderr=StringIO(),
        )  # fmt: skip
    text = out.getvalue()
    assert "shop.0002_orders" not in text
    assert "post-deploy: removes product.legacy_code: the running release still reads it" in text

    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "dbgov", "plan", "--no-save", "--database", shop.database, "--format", "sarif",
            stdout=out, stderr=StringIO(),
        )  # fmt: skip
    results = json.loads(out.getvalue())["runs"][0]["results"]
    phases = {r["properties"]["migration"]: r["properties"]["phase"] for r in results}
    assert phases["shop.0008_remove_product_legacy_code"] == "post"
    assert phases["shop.0007_orders_status_index"] == "pre"


def test_migrate_pre_then_post_while_the_running_release_inserts(shop: ShopCopy):
    shop.migrate("shop", "0001_products")
    running = MigrationLoader(connections[shop.database]).project_state(("shop", "0001_products"))
    Product = running.apps.get_model("shop", "Product")  # the release before this deploy
    Product.objects.using(shop.database).create(sku="A", name="a", price=1, legacy_code="x")

    out = shop.migrate(phase="pre")
    assert "stopping before shop.0004_order_currency" in out
    applied = MigrationLoader(connections[shop.database]).applied_migrations
    shop_applied = sorted(name for app, name in applied if app == "shop")
    assert shop_applied == ["0001_products", "0002_orders", "0003_orders_user_history_index"]
    # Between the two phases the running release keeps writing (legacy_code included).
    Product.objects.using(shop.database).create(sku="B", name="b", price=2, legacy_code="y")
    assert Product.objects.using(shop.database).count() == 2
    assert "nothing to apply" in shop.migrate(phase="pre").splitlines()[-1]

    shop.migrate(phase="post")
    applied = MigrationLoader(connections[shop.database]).applied_migrations
    assert sorted(name for app, name in applied if app == "shop") == sorted(p for p in shop.names())
    assert shop.sql("SELECT count(*) FROM shop_products") == [(2,)]


def _state() -> ProjectState:
    state = ProjectState()
    state.add_model(
        ModelState(
            "shop",
            "item",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("note", models.TextField(null=True)),
                ("code", models.CharField(max_length=10, db_column="legacy")),
            ],
        )
    )
    return state


@pytest.mark.parametrize(
    ("operation", "phase"),
    [
        (migrations.AddField("item", "size", models.IntegerField(null=True)), "pre"),
        (migrations.AddField("item", "size", models.IntegerField(db_default=1)), "pre"),
        (migrations.AddField("item", "size", models.IntegerField(default=1)), "post"),
        (migrations.AlterField("item", "note", models.TextField()), "post"),
        (migrations.AlterField("item", "note", models.TextField(null=True, blank=True)), "pre"),
        (migrations.RemoveField("item", "note"), "post"),
        (
            migrations.SeparateDatabaseAndState(
                state_operations=[migrations.RemoveField("item", "note")]
            ),
            "pre",
        ),
        (migrations.RenameField("item", "code", "sku"), "pre"),  # db_column kept
        (migrations.RenameField("item", "note", "remark"), "post"),
        (migrations.RunSQL("ALTER TABLE shop_item DROP COLUMN note"), "post"),
        (migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN note SET NOT NULL"), "post"),
        (migrations.RunSQL("CREATE INDEX CONCURRENTLY i ON shop_item (note)"), "pre"),
        (migrations.DeleteModel("item"), "post"),
    ],
)
def test_each_operation_kind_has_its_phase(operation, phase):
    migration = migrations.Migration("0002_change", "shop")
    migration.operations = [operation]
    assert classify(migration, _state()).phase == phase
