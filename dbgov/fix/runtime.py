"""Operations' code that the migrations ``dbgov fix`` writes call at run time.

They are deconstructible callables, so the written file names them
(``dbgov.fix.runtime.Backfill(...)``) instead of carrying a copy of the code. They
use only ``schema_editor.connection`` (never ``connections[alias]``), so they run where
the migration runs: the target under ``migrate``, the sandbox while ``fix`` verifies.
"""

from __future__ import annotations

from typing import Any

from django.utils.deconstruct import deconstructible

from ..conf import dbgov_settings

__all__ = ["Backfill", "CopyColumn"]


def _batch_size(configured: int | None) -> int:
    return int(configured or dbgov_settings.BACKFILL_BATCH_SIZE)


def _run_batches(schema_editor: Any, sql: str, params: list[Any]) -> int:
    """Run ``sql`` (an UPDATE of at most one batch) until it changes no row.

    In a non-atomic migration each UPDATE commits on its own: row locks are held for
    one batch, never for the whole table.
    """
    total = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            cursor.execute(sql, params)
            if not cursor.rowcount:
                return total
            total += cursor.rowcount


@deconstructible(path="dbgov.fix.runtime.Backfill")
class Backfill:
    """Set ``field`` to ``value`` (or the field's default) where it is NULL, in batches."""

    def __init__(
        self,
        app_label: str,
        model_name: str,
        field: str,
        value: Any = None,
        batch_size: int | None = None,
    ) -> None:
        self.app_label = app_label
        self.model_name = model_name
        self.field = field
        self.value = value
        self.batch_size = batch_size

    def __call__(self, apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(self.app_label, self.model_name)
        field = model._meta.get_field(self.field)
        value = self.value if self.value is not None else field.get_default()
        connection = schema_editor.connection
        qn = connection.ops.quote_name
        table, column, pk = model._meta.db_table, field.column, model._meta.pk.column
        sql = (
            f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} IN ("
            f"SELECT {qn(pk)} FROM {qn(table)} WHERE {qn(column)} IS NULL "
            f"ORDER BY {qn(pk)} LIMIT %s FOR UPDATE SKIP LOCKED)"
        )
        params = [field.get_db_prep_save(value, connection), _batch_size(self.batch_size)]
        _run_batches(schema_editor, sql, params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Backfill) and self.__dict__ == other.__dict__


@deconstructible(path="dbgov.fix.runtime.CopyColumn")
class CopyColumn:
    """Copy ``source`` into ``target`` where ``target`` is NULL, cast to its type, in batches."""

    def __init__(
        self,
        app_label: str,
        model_name: str,
        source: str,
        target: str,
        batch_size: int | None = None,
    ) -> None:
        self.app_label = app_label
        self.model_name = model_name
        self.source = source
        self.target = target
        self.batch_size = batch_size

    def __call__(self, apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(self.app_label, self.model_name)
        source = model._meta.get_field(self.source)
        target = model._meta.get_field(self.target)
        connection = schema_editor.connection
        qn = connection.ops.quote_name
        table, pk = model._meta.db_table, model._meta.pk.column
        cast = target.cast_db_type(connection)
        sql = (
            f"UPDATE {qn(table)} SET {qn(target.column)} = {qn(source.column)}::{cast} "
            f"WHERE {qn(pk)} IN (SELECT {qn(pk)} FROM {qn(table)} "
            f"WHERE {qn(target.column)} IS NULL AND {qn(source.column)} IS NOT NULL "
            f"ORDER BY {qn(pk)} LIMIT %s FOR UPDATE SKIP LOCKED)"
        )
        _run_batches(schema_editor, sql, [_batch_size(self.batch_size)])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CopyColumn) and self.__dict__ == other.__dict__
