"""Fixtures for `dbgov fix` and the deploy phases: an editable copy of the demo shop's
migrations (MIGRATION_MODULES points at it; project/ is never written) and a scratch
database to migrate it on, with rows."""

from __future__ import annotations

import secrets
import shutil
import sys
import textwrap
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from dbgov.analysis.engine import build_plan
from dbgov.fix.writer import forget_modules

SHOP = Path(__file__).resolve().parents[2] / "project" / "shop" / "migrations"


class ShopCopy:
    """The demo shop's migrations in a temporary package, and a database to run them on."""

    def __init__(self, path: Path, database: str) -> None:
        self.path = path
        self.database = database

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.path.glob("0*.py"))

    def text(self, name: str) -> str:
        return (self.path / f"{name}.py").read_text()

    def add(self, name: str, source: str) -> None:
        """Write a migration (an unsafe one, for a test to fix) into the copy."""
        path = self.path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        forget_modules([path])  # the migration loader imports each file once

    def migrate(self, *target: str, phase: str | None = None) -> str:
        out = StringIO()
        extra = {"dbgov_phase": phase} if phase else {}
        call_command("migrate", *target, database=self.database, verbosity=1, stdout=out, **extra)
        return out.getvalue()

    def sql(self, query: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with connections[self.database].cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def fix(self, *args: str) -> tuple[int, str, str]:
        out, err = StringIO(), StringIO()
        try:
            call_command("dbgov", "fix", *args, "--database", self.database, stdout=out, stderr=err)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        except CommandError as exc:  # what manage.py prints as "CommandError: …", exit 2
            return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scratch_db: str) -> Iterator[ShopCopy]:
    package = f"fixshop_{secrets.token_hex(4)}"
    path = tmp_path / package
    shutil.copytree(SHOP, path, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(tmp_path))
    with override_settings(MIGRATION_MODULES={"shop": package}):
        yield ShopCopy(path, scratch_db)
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


def columns_of(shop: ShopCopy, table: str) -> set[str]:
    return {
        r[0]
        for r in shop.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
        )
    }


def seed_orders(shop: ShopCopy, count: int = 50) -> None:
    """A user, products and ``count`` orders with one item each (raw SQL: no model state)."""
    shop.sql(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
        "email, is_staff, is_active, date_joined) "
        "VALUES ('', false, 'buyer', '', '', '', false, true, now())"
    )
    legacy = "legacy_code" in columns_of(shop, "shop_products")
    shop.sql(
        "INSERT INTO shop_products (sku, name, price, created_at, updated_at"
        + (", legacy_code" if legacy else "")
        + ") SELECT 'SKU-' || i, 'product ' || i, 10, now(), now()"
        + (", 'L' || i" if legacy else "")
        + " FROM generate_series(1, 5) i"
    )
    columns = columns_of(shop, "shop_orders")
    total = "total_amount" if "total_amount" in columns else "total"
    extra_cols = ", currency" if "currency" in columns else ""
    extra_vals = ", 'USD'" if "currency" in columns else ""
    shop.sql(
        f"INSERT INTO shop_orders (status, {total}, created_at, updated_at, user_id{extra_cols}) "
        f"SELECT 'new', i, now(), now(), (SELECT id FROM auth_user){extra_vals} "
        f"FROM generate_series(1, {count}) i"
    )
    shop.sql(
        "INSERT INTO shop_order_items (quantity, unit_price, order_id, product_id) "
        "SELECT o.id, 10, o.id, (SELECT min(id) FROM shop_products) FROM shop_orders o"
    )


def old_release(shop: ShopCopy, migration: str, model: str):
    """The model class of the release running before the deploy (its migration state)."""
    loader = MigrationLoader(connections[shop.database])
    return loader.project_state(("shop", migration)).apps.get_model("shop", model)


def findings_needing_review(shop: ShopCopy, last: str, names: list[str]) -> list[str]:
    plan = build_plan(database=shop.database, selection="targets", targets=[("shop", last)])
    return [
        f"{f.migration} {f.rule_id}"
        for f in plan.findings
        if f.migration in names and f.needs_review
    ]


def column(shop: ShopCopy, table: str, name: str) -> tuple[str, str] | None:
    rows = shop.sql(
        "SELECT data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = %s AND column_name = %s",
        [table, name],
    )
    return rows[0] if rows else None
