"""Throughput of schema work per server, measured by rehearsals (docs/risk.md)."""

from __future__ import annotations

from django.db import models

from ..analysis.risk.estimates import Rate, RateSums, fit_rate

__all__ = ["Throughput"]


class Throughput(models.Model):
    """How fast one server does one kind of work (dbgov.analysis.risk.estimates.KINDS).

    Running sums over every rehearsed statement of that kind give the line
    seconds = overhead + work / rate (``dbgov.analysis.risk.estimates.RateSums``).
    """

    class Kind(models.TextChoices):
        REWRITE = "rewrite", "Table rewrite (bytes/s)"
        INDEX = "index", "Index build (rows/s)"
        VALIDATE = "validate", "Constraint validation (bytes/s)"
        FOREIGN_KEY = "foreign-key", "Foreign key validation (rows/s)"
        SCAN = "scan", "Full scan (bytes/s)"

    server = models.CharField(max_length=255, help_text="host:port of the server")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    work = models.FloatField(default=0.0, help_text="total work measured, in the kind's unit")
    seconds = models.FloatField(default=0.0, help_text="total time it took")
    # Sums of 1/t², w/t², w²/t², 1/t and w/t (RateSums)
    inv_t2 = models.FloatField(default=0.0)
    w_t2 = models.FloatField(default=0.0)
    ww_t2 = models.FloatField(default=0.0)
    inv_t = models.FloatField(default=0.0)
    w_t = models.FloatField(default=0.0)
    samples = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["server", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["server", "kind"], name="dbgov_throughput_unique")
        ]

    def __str__(self) -> str:
        rate = self.fitted()
        return f"{self.kind} on {self.server}: " + (f"{rate.per_s:.3g}/s" if rate else "-")

    def fitted(self, source: str = "measured") -> Rate | None:
        return fit_rate(self.kind, self.sums(), source=source)

    def sums(self) -> RateSums:
        return RateSums(self.samples, self.inv_t2, self.w_t2, self.ww_t2, self.inv_t, self.w_t)
