"""A plain volume generator: ``rows`` products from a generator expression."""

import datetime as dt

MODELS = ["shop.Product"]
OPTIONS = {"rows": 1000}
WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def generate(ctx):
    ids = ctx.reserve_ids("shop.Product", ctx.options["rows"])
    ctx.write(
        "shop.Product",
        (
            {"id": i, "sku": f"V-{i}", "name": "volume", "price": i % 100, "created_at": WHEN}
            for i in ids
        ),
    )
