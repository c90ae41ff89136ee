"""RenameField / RenameModel → the database keeps its name (``db_column`` / ``db_table``).

Before: ``ALTER TABLE … RENAME`` (a brief ACCESS EXCLUSIVE) breaks every query of the
running release, which still uses the old name.

After: one state-only migration (``SeparateDatabaseAndState`` with no database
operation): the model gets its new name and ``db_column`` / ``db_table`` pins the old
one, so no SQL runs. The model in models.py needs the same ``db_column`` /
``db_table`` (the fix says which) or makemigrations will write the rename again.
"""

from __future__ import annotations

from django.db import migrations
from django.db.migrations.operations.base import Operation

from .steps import FixContext, Rewrite, Step

PATTERN = "rename_keep_db_name"


def matches(op: Operation, ctx: FixContext) -> bool:
    if isinstance(op, migrations.RenameField):
        return not ctx.model(op.model_name)._meta.get_field(op.old_name).db_column
    if isinstance(op, migrations.RenameModel):
        return not ctx.state.models[(ctx.app_label, op.old_name_lower)].options.get("db_table")
    return False


def rewrite(op: Operation, ctx: FixContext) -> Rewrite:
    if isinstance(op, migrations.RenameField):
        model = ctx.model(op.model_name)
        old = model._meta.get_field(op.old_name)
        field = old.clone()
        field.db_column = old.column
        return Rewrite(
            PATTERN,
            [
                Step(
                    f"rename_{op.old_name}_{op.new_name}_state_only",
                    [
                        migrations.SeparateDatabaseAndState(
                            state_operations=[
                                op,
                                migrations.AlterField(
                                    model_name=op.model_name, name=op.new_name, field=field
                                ),
                            ]
                        )
                    ],
                    comment=f"Rename {op.model_name}.{op.old_name} to {op.new_name} in Django "
                    f"only: the column stays {old.column!r} (db_column).",
                )
            ],
            notes=[
                f"models.py: give {model.__name__}.{op.new_name} db_column={old.column!r}, "
                "or makemigrations will write the rename again"
            ],
        )
    assert isinstance(op, migrations.RenameModel)
    table = ctx.model(op.old_name)._meta.db_table
    return Rewrite(
        PATTERN,
        [
            Step(
                f"rename_{op.old_name_lower}_{op.new_name_lower}_state_only",
                [
                    migrations.SeparateDatabaseAndState(
                        state_operations=[
                            migrations.AlterModelTable(name=op.old_name, table=table),
                            op,
                        ]
                    )
                ],
                comment=f"Rename {op.old_name} to {op.new_name} in Django only: the table "
                f"stays {table!r} (db_table).",
            )
        ],
        notes=[f"models.py: give {op.new_name} Meta.db_table = {table!r}"],
    )
