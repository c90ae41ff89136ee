"""The demo shop (DESIGN.md's worked example, task T-021 and the hazard tasks)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "shop_products"

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Order(models.Model):
    # The composite index below leads with user_id, so the FK needs no index of its own.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False, related_name="orders"
    )
    status = models.CharField(max_length=20, default="new")
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # Nullable on purpose: adding a NULL column is the catalog-only (safe) change.
    shipping_address = models.TextField(blank=True, null=True, db_comment="PII: postal address")  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "shop_orders"
        indexes = [
            models.Index(fields=["user", "-created_at"], name="shop_orders_user_history_idx"),
            models.Index(fields=["status", "created_at"], name="shop_orders_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"order {self.pk}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        db_table = "shop_order_items"

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id} in order {self.order_id}"
