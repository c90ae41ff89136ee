"""The baseline: findings on the applied history, accepted once so only new ones are gated.

``dbgov baseline`` records each finding of an applied migration as a row here. Rows are
append-only (PostgreSQL refuses UPDATE and DELETE) and hash-chained: each row's
``digest`` covers its fields and the previous row's digest, so an edited or removed row
breaks the chain (``dbgov baseline --status`` verifies it). Approvals' signing (HMAC) can
replace the plain sha256 in ``dbgov.governance.baseline.row_digest`` without a new column.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

__all__ = ["BaselineFinding"]


class BaselineFinding(models.Model):
    """One accepted finding of the applied history (by fingerprint)."""

    fingerprint = models.CharField(max_length=64, unique=True)
    database = models.CharField(max_length=100)
    app_label = models.CharField(max_length=100, blank=True)
    migration = models.CharField(max_length=255, blank=True)
    operation_index = models.IntegerField(null=True, blank=True)
    rule_id = models.CharField(max_length=100, db_index=True)
    severity = models.CharField(max_length=32)
    message = models.TextField(blank=True)
    batch = models.CharField(max_length=32, db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by_name = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    prev_digest = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "baseline finding"
        triggers = [
            pgtrigger.Protect(name="append_only_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="append_only_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        op = "" if self.operation_index is None else f" #{self.operation_index}"
        return f"{self.app_label}.{self.migration}{op} {self.rule_id}"
