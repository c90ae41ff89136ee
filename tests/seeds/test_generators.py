"""Volume generators: the staging orders generator's counts, determinism, schema
robustness (shop at migration 0002) and constant memory."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connections

from dbgov.models import SeedLoad
from dbgov.seeds import SeedError, seed
from project.shop.models import Product
from tests.seeds.conftest import REPO

pytestmark = pytest.mark.django_db(databases=["default", "staging"])

STAGING = REPO / "fixtures"


def digest(alias: str, sql: str) -> str:
    h = hashlib.sha256()
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        for row in cursor.fetchall():
            h.update(repr(row).encode())
    return h.hexdigest()


def scalar(alias: str, sql: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


ORDERS_SQL = (
    "SELECT o.id, u.username, u.email, o.status, o.total_amount, o.currency, o.created_at,"
    " o.shipping_address FROM shop_orders o JOIN auth_user u ON u.id = o.user_id ORDER BY o.id"
)
ITEMS_SQL = (
    "SELECT id, order_id, product_id, quantity, unit_price FROM shop_order_items ORDER BY id"
)


@pytest.fixture
def staging_seeds(seed_dirs: Callable[..., None]) -> None:
    seed_dirs(STAGING)


def test_row_counts(staging_seeds: None) -> None:
    report = seed("staging", database="staging", options={"orders": "3000", "chunk": "700"})
    (result,) = report.files
    assert result.kind == "generator" and result.action == "loaded"
    assert result.models["shop.order"] == 3000
    assert scalar("staging", "SELECT count(*) FROM shop_orders") == 3000
    assert result.models["auth.user"] == round(3000 / 35)
    items = scalar("staging", "SELECT count(*) FROM shop_order_items")
    assert result.models["shop.orderitem"] == items
    assert 3000 <= items <= 5 * 3000
    assert result.rows == sum(result.models.values())
    # totals are the sum of the items
    assert (
        scalar(
            "staging",
            "SELECT count(*) FROM shop_orders o WHERE total_amount <> (SELECT sum(quantity * unit_price)"
            " FROM shop_order_items i WHERE i.order_id = o.id)",
        )
        == 0
    )
    record = SeedLoad.objects.get(environment="staging")  # recorded on the default alias
    assert record.database == "staging" and record.rows == result.rows
    assert record.options["orders"] == 3000 and record.options["seed"] == 20261122


def test_distributions(staging_seeds: None) -> None:
    seed("staging", database="staging", options={"orders": "7000"})
    per_user_median = scalar(
        "staging",
        "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY c) FROM"
        " (SELECT count(*) c FROM shop_orders GROUP BY user_id) s",
    )
    assert 20 <= per_user_median <= 60  # "user order history" has a few dozen rows per user
    days = scalar(
        "staging", "SELECT extract(day FROM max(created_at) - min(created_at)) FROM shop_orders"
    )
    assert 600 <= days <= 730  # spread over two years
    delivered = scalar("staging", "SELECT count(*) FROM shop_orders WHERE status = 'delivered'")
    assert 0.6 * 7000 < delivered < 0.95 * 7000  # statuses weighted
    assert scalar("staging", "SELECT count(DISTINCT status) FROM shop_orders") >= 5


def test_deterministic_for_a_seed(staging_seeds: None) -> None:
    opts = {"orders": "1500"}
    seed("staging", database="staging", options=opts)
    first = digest("staging", ORDERS_SQL), digest("staging", ITEMS_SQL)
    # A forced reload deletes what the generator wrote and generates again.
    report = seed("staging", database="staging", options=opts, force=True)
    assert report.files[0].action == "reloaded" and report.files[0].removed > 1500
    assert scalar("staging", "SELECT count(*) FROM shop_orders") == 1500  # no duplicates
    assert (digest("staging", ORDERS_SQL), digest("staging", ITEMS_SQL)) == first
    seed("staging", database="staging", options=opts, random_seed=7)
    assert digest("staging", ORDERS_SQL) != first[0]


def test_unchanged_generator_is_skipped_and_changed_options_reload(staging_seeds: None) -> None:
    seed("staging", database="staging", options={"orders": "500"})
    again = seed("staging", database="staging", options={"orders": "500"})
    assert again.files[0].action == "skipped"
    bigger = seed("staging", database="staging", options={"orders": "800"})
    assert bigger.files[0].action == "reloaded"
    assert scalar("staging", "SELECT count(*) FROM shop_orders") == 800


def test_size_from_environment_variable(
    staging_seeds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBGOV_SEED_ORDERS", "400")
    seed("staging", database="staging")
    assert scalar("staging", "SELECT count(*) FROM shop_orders") == 400


def test_pii_columns_get_fake_values(staging_seeds: None) -> None:
    seed("staging", database="staging", options={"orders": "300"})
    assert (
        scalar("staging", "SELECT count(*) FROM auth_user WHERE email NOT LIKE '%@example.com'")
        == 0
    )
    # shipping_address (db_comment "PII: postal address") is filled from Faker values
    assert scalar("staging", "SELECT count(*) FROM shop_orders WHERE shipping_address IS NULL") == 0


def test_generator_writing_real_looking_pii_is_refused(
    seed_dirs: Callable[..., None], tmp_path: Path
) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "people.py").write_text(
        'MODELS = ["auth.User"]\n\n'
        "def generate(ctx):\n"
        "    ids = ctx.reserve_ids('auth.User', 3)\n"
        "    ctx.write('auth.User', ({'id': i, 'username': f'u{i}', 'password': '!',"
        " 'email': f'u{i}@example.com' if i < ids[-1] else 'someone@gmail.com'} for i in ids))\n"
    )
    seed_dirs(tmp_path)
    with pytest.raises(SeedError, match=r"dev/people.py: row 3 of auth.User field email"):
        seed("dev")
    assert not SeedLoad.objects.exists()


# -- a staging database at shop 0002 (before T-034 … T-041) -----------------------------


@pytest.fixture
def staging_at_0002(seed_dirs: Callable[..., None]) -> Iterator[str]:
    """The staging alias pointed, for one test, at a scratch database migrated with
    `migrate shop 0002 --database staging` (amount column `total`, no currency)."""
    conn = connections["staging"]
    original = conn.settings_dict["NAME"]
    name = f"{original}_at_0002"
    s = conn.settings_dict
    admin = {
        "host": s["HOST"] or None,
        "port": s["PORT"] or None,
        "user": s["USER"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{name}"')
        pg.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    conn.settings_dict["NAME"] = name
    try:
        call_command("migrate", "shop", "0002", database="staging", verbosity=0)
        seed_dirs(STAGING)
        yield "staging"
    finally:
        conn.close()
        conn.settings_dict["NAME"] = original
        with psycopg.connect(**admin) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(databases=["default", "staging"], transaction=True)
def test_generator_writes_the_columns_the_target_has(staging_at_0002: str) -> None:
    columns = {
        c.name
        for c in connections[staging_at_0002].introspection.get_table_description(
            connections[staging_at_0002].cursor(), "shop_orders"
        )
    }
    assert "total" in columns and "currency" not in columns and "total_amount" not in columns
    report = seed("staging", database=staging_at_0002, options={"orders": "600"})
    assert report.files[0].models["shop.order"] == 600
    assert scalar(staging_at_0002, "SELECT count(*) FROM shop_orders WHERE total > 0") == 600
    # shop_products still has legacy_code (NOT NULL, dropped in 0008): filled from the
    # default the field had at that migration state.
    assert scalar(staging_at_0002, "SELECT count(*) FROM shop_products WHERE legacy_code = ''") > 0


# -- memory ------------------------------------------------------------------------------


@pytest.mark.slow  # renders / loads at full size: not in the fast tier
def test_write_streams_rows_without_holding_them(seed_dirs: Callable[..., None]) -> None:
    """ctx.write consumes its iterator row by row: five times the rows, the same peak."""
    from tests.seeds.conftest import DATA

    seed_dirs(DATA)

    def peak(rows: int) -> int:
        tracemalloc.start()
        try:
            report = seed("volume", options={"rows": str(rows)}, force=True)
            assert report.files[0].models == {"shop.product": rows}
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    seed("volume", options={"rows": "100"})  # imports, caches
    small, large = peak(20_000), peak(100_000)
    # Holding the rows would cost hundreds of bytes per row (80,000 more rows: > 16 MB).
    per_row = (large - small) / 80_000
    assert per_row < 2, (small, large, per_row)
    assert Product.objects.filter(sku__startswith="V-").count() == 100_000
