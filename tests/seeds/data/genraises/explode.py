"""A generator that fails half-way: its first rows and users.json must not stay."""

MODELS = ["shop.Product"]
OPTIONS = {"rows": 10}


def generate(ctx):
    ids = ctx.reserve_ids("shop.Product", ctx.options["rows"])
    ctx.write(
        "shop.Product", ({"id": i, "sku": f"X-{i}", "name": "x", "price": "1.00"} for i in ids)
    )
    raise RuntimeError("supplier feed unavailable")
