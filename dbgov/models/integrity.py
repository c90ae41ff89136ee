"""Tamper evidence: the signed hash chain of the append-only governance tables.

Every row of ``Approval``, ``AuditEvent`` and ``Ledger`` carries ``seq`` (its place
in its table's chain), ``prev_digest`` (the digest of the row before), ``digest``
(HMAC-SHA256 over its signed fields, ``seq`` and ``prev_digest``) and ``key_id``
(which of ``DBGOV["SIGNING_KEYS"]`` signed it). ``ChainHead`` holds, per table, the
last ``seq`` and ``digest``, itself signed; appends lock it (``SELECT … FOR UPDATE``)
so they serialise. The key lives outside the database: whoever can write the tables
but not read the settings cannot forge a row, and ``dbgov verify`` names every row
that was forged, edited, deleted or reordered (dbgov.governance.integrity).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models, transaction

__all__ = ["ChainHead", "ChainedModel"]


class ChainedQuerySet(models.QuerySet[Any]):
    """``bulk_create`` signs and chains the rows it inserts (ledger, audit)."""

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        from dbgov.governance.integrity import chain_rows

        objs = list(objs)
        if not objs:
            return objs
        with transaction.atomic(using=self.db):
            chain_rows(self.model, objs, using=self.db)
            return super().bulk_create(objs, *args, **kwargs)


class ChainedModel(models.Model):
    """A row of an append-only table, signed and chained to the previous row."""

    # Fields the signature covers, besides id, seq, prev_digest and key_id.
    SIGNED_FIELDS: ClassVar[tuple[str, ...]] = ()

    seq = models.BigIntegerField(null=True, blank=True, editable=False, db_index=True)
    prev_digest = models.CharField(max_length=64, blank=True, editable=False, db_default="")
    digest = models.CharField(max_length=64, blank=True, editable=False, db_default="")
    key_id = models.CharField(max_length=16, blank=True, editable=False, db_default="")

    objects = ChainedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or self.seq is not None:
            super().save(*args, **kwargs)
            return
        from dbgov.governance.integrity import chain_rows

        using = kwargs.get("using") or self._state.db or "default"
        with transaction.atomic(using=using):
            chain_rows(type(self), [self], using=using)
            kwargs["force_insert"] = True
            super().save(*args, **kwargs)


class ChainHead(models.Model):
    """The last link of one table's chain; a TRUNCATE or a deleted tail shows here."""

    table = models.CharField(max_length=100, unique=True)
    seq = models.BigIntegerField(default=0)
    digest = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=16, blank=True)
    signature = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "chain head"

    def __str__(self) -> str:
        return f"{self.table} @ {self.seq}"
