"""``manage.py seed_orders --database staging --orders 100000``: demo data via COPY."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from project.shop.seeding import migrate_staging, seed_orders


class Command(BaseCommand):
    help = "Load demo users, products, orders and order items into empty shop tables (COPY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="staging")
        parser.add_argument("--orders", type=int, default=100_000)
        parser.add_argument("--users", type=int, default=2_000)
        parser.add_argument(
            "--migrate-to",
            metavar="SHOP_MIGRATION",
            help="First migrate the database: shop to this migration, other apps to latest.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        if options["migrate_to"]:
            migrate_staging(alias, options["migrate_to"])
        params = dict(connections[alias].get_connection_params())
        for key in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(key, None)
        connections[alias].close()
        try:
            counts = seed_orders(params, orders=options["orders"], users=options["users"])
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            ", ".join(f"{v} {k}" for k, v in counts.items()) + f" loaded into {alias}."
        )
