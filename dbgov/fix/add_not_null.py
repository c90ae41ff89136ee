"""AddField NOT NULL → nullable column, batched backfill, NOT VALID check, VALIDATE, SET NOT NULL.

(An ``AlterField`` from ``null=True`` to ``null=False`` gets steps 2–4.)

Before: one ``AddField`` of a NOT NULL column: ACCESS EXCLUSIVE while PostgreSQL fills
(or fails on) every existing row, and the running release's INSERTs fail afterwards.

After (four migrations):
1. pre-deploy: the column, nullable (a constant default still fills existing rows
   from the catalog, without a rewrite);
2. post-deploy, non-atomic: a batched backfill of the rows still NULL (those the old
   release inserted meanwhile), reverse code ``noop``;
3. post-deploy: ``CHECK (col IS NOT NULL) NOT VALID`` (a brief ACCESS EXCLUSIVE, no scan);
4. post-deploy: ``VALIDATE`` (SHARE UPDATE EXCLUSIVE: writes go on), ``SET NOT NULL``
   (PostgreSQL 12+ trusts the valid check: no scan), then the check is dropped; the
   model state gets the original field.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.db.migrations.operations.base import Operation

from .runtime import Backfill
from .steps import FixContext, FixError, Rewrite, Step, constraint_name, differs_only_in

PATTERN = "add_not_null"

_NO_VALUE = object()


def matches(op: Operation, ctx: FixContext) -> bool:
    if isinstance(op, migrations.AlterField):
        old: Any = ctx.model(op.model_name)._meta.get_field(op.name)
        new: Any = op.field
        return bool(old.null and not new.null and differs_only_in(old, new, {"null", "default"}))
    return (
        isinstance(op, migrations.AddField)
        and not op.field.null
        and not op.field.many_to_many
        and not op.field.primary_key
        and getattr(op.field, "db_default", models.NOT_PROVIDED) is models.NOT_PROVIDED
        and not isinstance(op.field, models.ForeignKey)
    )


def _value(op: migrations.AddField | migrations.AlterField, ctx: FixContext) -> Any:
    """The backfill value: the field's default, or ``--backfill-value``; ``_NO_VALUE``
    when there is none (None: a callable default, evaluated once when the backfill runs)."""
    if op.field.has_default() and not callable(op.field.default):
        return op.field.default
    if ctx.backfill_value is not None:
        try:
            return op.field.to_python(ctx.backfill_value)
        except Exception as exc:
            raise FixError(
                f"--backfill-value {ctx.backfill_value!r} is not a valid "
                f"{type(op.field).__name__}: {exc}"
            ) from exc
    if op.field.has_default():
        return None
    return _NO_VALUE


def rewrite(op: migrations.AddField | migrations.AlterField, ctx: FixContext) -> Rewrite:
    value = _value(op, ctx)
    model = ctx.model(op.model_name)
    table = model._meta.db_table
    column = op.field.db_column or op.name
    final = op.field.clone()
    notes: list[str] = []
    steps: list[Step] = []
    if isinstance(op, migrations.AddField):
        if value is _NO_VALUE:
            raise FixError(
                f"{ctx.app_label}.{ctx.migration_name}: {op.model_name}.{op.name} has no "
                "default, so dbgov cannot know what the existing rows should hold; pass "
                "--backfill-value VALUE"
            )
        if not op.preserve_default:  # a one-off default (makemigrations' question)
            final.default = models.NOT_PROVIDED
        nullable = op.field.clone()
        nullable.null = True
        steps.append(
            Step(
                f"add_{op.name}_nullable",
                [
                    migrations.AddField(
                        model_name=op.model_name,
                        name=op.name,
                        field=nullable,
                        preserve_default=op.preserve_default,
                    )
                ],
                comment=f"Add {op.model_name}.{op.name} nullable: a catalog-only change; the "
                "running release keeps inserting rows without it.",
            )
        )
    elif value is _NO_VALUE:
        notes.append(
            f"{op.model_name}.{op.name} has no default: rows still NULL make the VALIDATE "
            "step fail; fill them first (or pass --backfill-value VALUE)"
        )
    if value is not _NO_VALUE:
        steps.append(_backfill(ctx, op, value))
    steps.extend(_not_null(ctx, op, table, column, final))
    return Rewrite(PATTERN, steps, notes=notes)


def _backfill(ctx: FixContext, op: Operation, value: Any) -> Step:
    name: str = op.name  # type: ignore[attr-defined]
    model_name: str = op.model_name  # type: ignore[attr-defined]
    return Step(
        f"backfill_{name}",
        [
            migrations.RunPython(
                Backfill(ctx.app_label, model_name.lower(), name, value),
                migrations.RunPython.noop,
            )
        ],
        phase="post",
        atomic=False,
        comment=f"Fill {model_name}.{name} where it is NULL, in batches of "
        "DBGOV['BACKFILL_BATCH_SIZE'] rows, each batch its own transaction.",
        ignore={
            0: {
                "data-migration": "batched backfill written by dbgov fix: one UPDATE "
                "of at most BACKFILL_BATCH_SIZE rows per transaction, SKIP LOCKED"
            }
        },
    )


def _not_null(ctx: FixContext, op: Operation, table: str, column: str, final: Any) -> list[Step]:
    """CHECK NOT VALID; then VALIDATE, SET NOT NULL (state: the final field), drop CHECK."""
    name: str = op.name  # type: ignore[attr-defined]
    model_name: str = op.model_name  # type: ignore[attr-defined]
    check = constraint_name(table, column, "not_null")
    qt, qc, qk = ctx.quote(table), ctx.quote(column), ctx.quote(check)
    add_check = f"ALTER TABLE {qt} ADD CONSTRAINT {qk} CHECK ({qc} IS NOT NULL) NOT VALID"
    drop_check = f"ALTER TABLE {qt} DROP CONSTRAINT IF EXISTS {qk}"
    return [
        Step(
            f"{name}_check_not_valid",
            [migrations.RunSQL(add_check, drop_check)],
            phase="post",
            comment=f"CHECK ({column} IS NOT NULL) NOT VALID: new rows are checked, old "
            "rows are not scanned.",
        ),
        Step(
            f"{name}_set_not_null",
            [
                migrations.RunSQL(
                    f"ALTER TABLE {qt} VALIDATE CONSTRAINT {qk}", migrations.RunSQL.noop
                ),
                migrations.SeparateDatabaseAndState(
                    database_operations=[
                        migrations.RunSQL(
                            f"ALTER TABLE {qt} ALTER COLUMN {qc} SET NOT NULL",
                            f"ALTER TABLE {qt} ALTER COLUMN {qc} DROP NOT NULL",
                        )
                    ],
                    state_operations=[
                        migrations.AlterField(model_name=model_name, name=name, field=final)
                    ],
                ),
                migrations.RunSQL(drop_check, add_check),
            ],
            phase="post",
            comment="VALIDATE scans under SHARE UPDATE EXCLUSIVE (writes go on); SET NOT "
            "NULL then trusts the valid check (PostgreSQL 12+: no scan); the check goes.",
        ),
    ]
