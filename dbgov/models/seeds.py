"""Models of the seeds area: what each environment's seed files put in which database."""

from __future__ import annotations

import pgtrigger
from django.db import models
from django.utils import timezone

__all__ = ["SeedLoad"]


class SeedLoad(models.Model):
    """One load of one seed file (fixture or generator) into one database.

    Append-only history: a reload adds a row; the latest row per
    (environment, database, path) says what that database holds. A trigger refuses
    UPDATE, so the history cannot be rewritten.
    """

    class Kind(models.TextChoices):
        FIXTURE = "fixture", "Fixture"
        GENERATOR = "generator", "Generator"

    environment = models.CharField(max_length=32)
    database = models.CharField(max_length=64, help_text="Database alias the rows went to.")
    path = models.CharField(max_length=500, help_text="Seed file, relative to BASE_DIR.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sha256 = models.CharField(max_length=64)
    rows = models.BigIntegerField(help_text="Rows written (objects of a fixture).")
    duration_ms = models.FloatField()
    options = models.JSONField(
        default=dict, blank=True, help_text="Generator options and random seed."
    )
    row_keys = models.JSONField(
        default=dict,
        blank=True,
        help_text="Primary keys written, per model label: [first, last] ranges or values.",
    )
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "dbgov_seed_loads"
        ordering = ["-loaded_at", "-id"]
        indexes = [
            models.Index(
                fields=["environment", "database", "path", "-loaded_at"],
                name="dbgov_seedload_latest_idx",
            )
        ]
        triggers = [
            pgtrigger.Protect(name="seedload_append_only", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"{self.environment}:{self.path} ({self.rows} rows)"
