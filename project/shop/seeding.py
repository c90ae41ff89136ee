"""Bulk demo data for the shop's staging database, loaded with COPY.

A stand-in for ``dbgov seed --env staging`` (the seeds area) used by the explain
tests, the rehearsal benchmark and the demo script: N orders spread over a few
thousand users, one item per order, deterministic for a given size.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

STATUSES = ["new", "paid", "shipped", "delivered", "cancelled"]


def _columns(conn: psycopg.Connection[Any], table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
    ).fetchall()
    return {r[0] for r in rows}


def seed_orders(
    conninfo: str | dict[str, Any],
    *,
    orders: int = 100_000,
    users: int = 2_000,
    products: int = 200,
    seed: int = 21,
) -> dict[str, int]:
    """Load users, products, orders and order items into empty shop tables with COPY.

    ``conninfo`` is a libpq connection string or psycopg.connect() keyword arguments.
    Works on any schema state from shop 0002 on (``total`` or ``total_amount``,
    with or without ``currency``).
    """
    rng = random.Random(seed)
    kwargs = {"conninfo": conninfo} if isinstance(conninfo, str) else dict(conninfo)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with psycopg.connect(**kwargs) as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM shop_orders)").fetchone()[0]:  # type: ignore[index]
            raise RuntimeError("shop_orders is not empty; seed an empty staging database.")
        cur = conn.cursor()
        first_user = (
            1 + (cur.execute("SELECT COALESCE(max(id), 0) FROM auth_user").fetchone() or [0])[0]
        )
        with cur.copy(
            "COPY auth_user (id, password, last_login, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) FROM STDIN"
        ) as copy:
            for i in range(first_user, first_user + users):
                copy.write_row(
                    (
                        i,
                        "!",
                        None,
                        False,
                        f"customer{i}",
                        "",
                        "",
                        f"c{i}@example.com",
                        False,
                        True,
                        now,
                    )
                )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('auth_user', 'id'), %s)", [first_user + users]
        )
        product_cols = _columns(conn, "shop_products")
        legacy = "legacy_code" in product_cols
        with cur.copy(
            "COPY shop_products (sku, name, price, created_at, updated_at"
            + (", legacy_code" if legacy else "")
            + ") FROM STDIN"
        ) as copy:
            for p in range(products):
                row: tuple[Any, ...] = (
                    f"SKU-{p:05d}",
                    f"Product {p}",
                    f"{1 + p % 97}.99",
                    now,
                    now,
                )
                copy.write_row((*row, "") if legacy else row)
        order_cols = _columns(conn, "shop_orders")
        total_col = "total_amount" if "total_amount" in order_cols else "total"
        currency = "currency" in order_cols
        cols = ["user_id", "status", total_col, "created_at", "updated_at"] + (
            ["currency"] if currency else []
        )
        span = 2 * 365 * 24 * 3600
        with cur.copy(f"COPY shop_orders ({', '.join(cols)}) FROM STDIN") as copy:
            for _ in range(orders):
                created = now - timedelta(seconds=rng.randrange(span))
                row = (
                    first_user + rng.randrange(users),
                    STATUSES[rng.randrange(len(STATUSES))],
                    f"{rng.randrange(100, 100_000) / 100:.2f}",
                    created,
                    created,
                )
                copy.write_row((*row, "EUR") if currency else row)
        cur.execute(
            "INSERT INTO shop_order_items (order_id, product_id, quantity, unit_price) "
            "SELECT o.id, p.id, 1 + o.id %% 3, p.price FROM shop_orders o "
            "JOIN shop_products p ON p.sku = 'SKU-' || lpad((o.id %% %s)::text, 5, '0')",
            [products],
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return {"users": users, "products": products, "orders": orders, "order_items": orders}


def migrate_staging(alias: str = "staging", shop_target: str = "0002") -> None:
    """Bring a fresh staging database to shop ``shop_target`` and every other app to
    its latest migration (the state T-021's index migration is rehearsed against)."""
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader

    call_command("migrate", "shop", shop_target, database=alias, verbosity=0)
    apps_with_migrations = sorted(MigrationLoader(None, ignore_no_migrations=True).migrated_apps)
    for app_label in apps_with_migrations:
        if app_label != "shop":
            call_command("migrate", app_label, database=alias, verbosity=0)
