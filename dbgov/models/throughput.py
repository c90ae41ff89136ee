"""Throughput of schema work per server, measured by rehearsals (docs/risk.md)."""

from __future__ import annotations

from django.db import models

__all__ = ["Throughput"]


class Throughput(models.Model):
    """How fast one server does one kind of work (dbgov.analysis.risk.estimates.KINDS).

    The rate is ``work / seconds`` over every rehearsed statement of that kind: bigger
    statements weigh more, so a fixed per-statement overhead does not dominate.
    """

    class Kind(models.TextChoices):
        REWRITE = "rewrite", "Table rewrite (bytes/s)"
        INDEX = "index", "Index build (rows/s)"
        VALIDATE = "validate", "Constraint validation (bytes/s)"
        SCAN = "scan", "Full scan (bytes/s)"

    server = models.CharField(max_length=255, help_text="host:port of the server")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    work = models.FloatField(default=0.0, help_text="total work measured, in the kind's unit")
    seconds = models.FloatField(default=0.0, help_text="total time it took")
    samples = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["server", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["server", "kind"], name="dbgov_throughput_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.server}: {self.rate:.3g}/s"

    @property
    def rate(self) -> float:
        return self.work / self.seconds if self.seconds > 0 else 0.0
