"""AlterField that rewrites the table → a new column, backfilled, then swapped (a plan).

Before: ``ALTER COLUMN … TYPE`` rewrites the table (and its indexes) under ACCESS
EXCLUSIVE: nothing reads or writes it until the copy is done.

After, the first steps written:
1. pre-deploy: ``<name>_new`` with the new type, nullable (catalog only);
2. post-deploy, non-atomic: a batched copy ``<name>_new = <name>::new_type`` of the rows
   not copied yet (the new release writes both columns: the dual write);

and the rest of the plan, which needs code changes between the steps, as notes: deploy
code writing both columns, run the copy again, then swap the names in one migration
(state: the field changes type; database: the old column renamed away, the new one
renamed into place) and drop the old column after one more release.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, migrations
from django.db.migrations.operations.base import Operation

from .runtime import CopyColumn
from .steps import FixContext, Rewrite, Step

PATTERN = "type_change"


def matches(op: Operation, ctx: FixContext) -> bool:
    if not isinstance(op, migrations.AlterField):
        return False
    old = ctx.model(op.model_name)._meta.get_field(op.name)
    connection = connections[ctx.database]
    return bool(old.db_type(connection) != op.field.db_type(connection)) and not (
        old.is_relation or op.field.is_relation
    )


def rewrite(op: migrations.AlterField, ctx: FixContext) -> Rewrite:
    model = ctx.model(op.model_name)
    old = model._meta.get_field(op.name)
    new_name = f"{op.name}_new"
    field: Any = op.field.clone()
    field.null = True
    field.db_column = None
    field.db_index = False
    field._unique = False  # the constraints move at the swap, not before
    connection = connections[ctx.database]
    return Rewrite(
        PATTERN,
        [
            Step(
                f"add_{new_name}",
                [migrations.AddField(model_name=op.model_name, name=new_name, field=field)],
                comment=f"{op.model_name}.{new_name}: the new type "
                f"({field.db_type(connection)}), nullable; catalog only.",
            ),
            Step(
                f"copy_{op.name}_to_{new_name}",
                [
                    migrations.RunPython(
                        CopyColumn(ctx.app_label, op.model_name_lower, op.name, new_name),
                        migrations.RunPython.noop,
                    )
                ],
                phase="post",
                atomic=False,
                comment=f"Copy {op.name} into {new_name} in batches (run it again after the "
                "dual-write release: it copies only the rows still missing).",
                ignore={
                    0: {
                        "data-migration": "batched copy written by dbgov fix: one UPDATE of "
                        "at most BACKFILL_BATCH_SIZE rows per transaction, SKIP LOCKED"
                    }
                },
            ),
        ],
        notes=[
            f"models.py: add {new_name} = {type(field).__name__}(null=True) beside "
            f"{op.name} (still {type(old).__name__}) and write both in save() or a trigger "
            "(the dual write) before the copy runs in production",
            f"then the swap, in one migration: SeparateDatabaseAndState(database: RENAME "
            f"{old.column} TO {old.column}_old, RENAME {new_name} TO {old.column}, SET NOT NULL "
            f"through a validated CHECK if it was NOT NULL; state: RemoveField {new_name}, "
            f"AlterField {op.name} to the new type)",
            f"last, after one more release: drop {old.column}_old (dbgov fix writes that as "
            "a post-deploy removal)",
        ],
    )
