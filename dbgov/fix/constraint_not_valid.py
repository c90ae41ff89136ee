"""AddConstraint CHECK / AddField ForeignKey → NOT VALID, then VALIDATE in its own migration.

Before: adding a CHECK scans every row under ACCESS EXCLUSIVE; adding a foreign key
scans the referencing table while both tables are locked against writes (and
AddField builds the column's index with a plain CREATE INDEX).

After:
1. the constraint ``NOT VALID`` (a brief lock, no scan; new rows are checked at once)
   — for a foreign key, the column is added without constraint and index first, and
   the index is built CONCURRENTLY in a non-atomic migration;
2. ``VALIDATE CONSTRAINT`` in its own migration (SHARE UPDATE EXCLUSIVE on the table,
   ROW SHARE on the referenced one: reads and writes go on).
"""

from __future__ import annotations

from typing import Any

from django.db import connections, migrations, models
from django.db.migrations.operations.base import Operation

from .steps import FixContext, Rewrite, Step, constraint_name

PATTERN = "constraint_not_valid"


def matches(op: Operation, ctx: FixContext) -> bool:
    if isinstance(op, migrations.AddConstraint):
        return isinstance(op.constraint, models.CheckConstraint)
    return (
        isinstance(op, migrations.AddField)
        and isinstance(op.field, models.ForeignKey)
        and getattr(op.field, "db_constraint", True)
        and op.field.null
    )


def _validate(table: str, name: str, ctx: FixContext, label: str) -> Step:
    qt, qn = ctx.quote(table), ctx.quote(name)
    return Step(
        f"validate_{label}",
        [migrations.RunSQL(f"ALTER TABLE {qt} VALIDATE CONSTRAINT {qn}", migrations.RunSQL.noop)],
        comment="VALIDATE in its own transaction: SHARE UPDATE EXCLUSIVE, reads and writes go on.",
    )


def rewrite(op: Operation, ctx: FixContext) -> Rewrite:
    if isinstance(op, migrations.AddConstraint):
        return _check(op, ctx)
    assert isinstance(op, migrations.AddField)
    return _foreign_key(op, ctx)


def _check(op: migrations.AddConstraint, ctx: FixContext) -> Rewrite:
    model = ctx.model(op.model_name)
    table, name = model._meta.db_table, op.constraint.name
    with connections[ctx.database].schema_editor(collect_sql=True, atomic=False) as editor:
        add = str(op.constraint.create_sql(model, editor))
    qt, qn = ctx.quote(table), ctx.quote(name)
    return Rewrite(
        PATTERN,
        [
            Step(
                f"{name}_not_valid".lower(),
                [
                    migrations.SeparateDatabaseAndState(
                        database_operations=[
                            migrations.RunSQL(
                                f"{add.rstrip(';')} NOT VALID",
                                f"ALTER TABLE {qt} DROP CONSTRAINT IF EXISTS {qn}",
                            )
                        ],
                        state_operations=[op],
                    )
                ],
                comment="The CHECK, NOT VALID: new and updated rows are checked, old rows "
                "are not scanned.",
            ),
            _validate(table, name, ctx, name.lower()),
        ],
    )


def _foreign_key(op: migrations.AddField, ctx: FixContext) -> Rewrite:
    model = ctx.model(op.model_name)
    table = model._meta.db_table
    field: Any = op.field
    column = field.db_column or f"{op.name}_id"
    remote = field.remote_field.model
    label = remote if isinstance(remote, str) else remote._meta.label_lower
    target = ctx.state.apps.get_model(label if "." in label else f"{ctx.app_label}.{label}")
    target_table = target._meta.db_table
    target_column = target._meta.get_field(field.to_fields[0] or target._meta.pk.name).column
    fk = constraint_name(table, column, "fk")
    plain: Any = field.clone()
    plain.db_constraint = False
    plain.db_index = False
    qt, qc, qk = ctx.quote(table), ctx.quote(column), ctx.quote(fk)
    steps = [
        Step(
            f"add_{op.name}_not_valid",
            [
                migrations.SeparateDatabaseAndState(
                    database_operations=[
                        migrations.AddField(model_name=op.model_name, name=op.name, field=plain),
                        migrations.RunSQL(
                            f"ALTER TABLE {qt} ADD CONSTRAINT {qk} FOREIGN KEY ({qc}) "
                            f"REFERENCES {ctx.quote(target_table)} ({ctx.quote(target_column)}) "
                            "DEFERRABLE INITIALLY DEFERRED NOT VALID",
                            f"ALTER TABLE {qt} DROP CONSTRAINT IF EXISTS {qk}",
                        ),
                    ],
                    state_operations=[op],
                )
            ],
            comment="The nullable column and its foreign key NOT VALID (Django's own "
            "DEFERRABLE INITIALLY DEFERRED): no scan of either table.",
        )
    ]
    if field.db_index:
        index = constraint_name(table, column, "idx")
        qi = ctx.quote(index)
        steps.append(
            Step(
                f"{op.name}_index_concurrently",
                [
                    migrations.RunSQL(
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {qi} ON {qt} ({qc})",
                        f"DROP INDEX CONCURRENTLY IF EXISTS {qi}",
                    )
                ],
                atomic=False,
                comment="The foreign key's index, built CONCURRENTLY.",
            )
        )
    steps.append(_validate(table, fk, ctx, f"{op.name}_fk"))
    return Rewrite(PATTERN, steps)
