"""Who wrote each migration: they never decide on its findings (four eyes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["MigrationAuthor"]


class MigrationAuthor(models.Model):
    """An author of a migration file. Append-only (dbgov.governance.guards).

    From git (the author of the commit that added the file) when the file is in a
    repository, else the user who ran ``dbgov makemigrations --task``.
    """

    class Source(models.TextChoices):
        GIT = "git", "git (commit that added the file)"
        MAKEMIGRATIONS = "makemigrations", "dbgov makemigrations --task"

    app_label = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    email = models.CharField(max_length=254, blank=True)
    login = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["app_label", "name", "id"]
        indexes = [models.Index(fields=["app_label", "name"], name="dbgov_migauthor_idx")]

    def __str__(self) -> str:
        who = self.user.get_username() if self.user else (self.email or self.login or "?")
        return f"{self.app_label}.{self.name} by {who} ({self.source})"
