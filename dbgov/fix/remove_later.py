"""RemoveField / DeleteModel → state-only removal now, the database removal after the deploy.

Before: ``DROP COLUMN`` / ``DROP TABLE`` while the running release still selects the
column (Django selects every field) or uses the table: its queries fail at once.

After:
1. pre-deploy: Django forgets the field or model (``SeparateDatabaseAndState``); a NOT
   NULL column without a database default becomes nullable, so the new release's
   INSERTs (which omit it) succeed;
2. post-deploy (``dbgov_phase = "post"``): the column or table is dropped, once no
   running code uses it. Its reverse adds the column back (nullable, empty) or creates
   the table again (empty): the data is gone, which is why this step still needs a
   reviewer.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, migrations, models
from django.db.migrations.operations.base import Operation

from .steps import FixContext, Rewrite, Step

PATTERN = "remove_later"


def matches(op: Operation, ctx: FixContext) -> bool:
    return isinstance(op, migrations.RemoveField | migrations.DeleteModel)


def rewrite(op: Operation, ctx: FixContext) -> Rewrite:
    if isinstance(op, migrations.DeleteModel):
        return _delete_model(op, ctx)
    assert isinstance(op, migrations.RemoveField)
    model = ctx.model(op.model_name)
    field = model._meta.get_field(op.name)
    table, column = model._meta.db_table, field.column
    qt, qc = ctx.quote(table), ctx.quote(column)
    database_now: list[Operation] = []
    if not field.null and getattr(field, "db_default", models.NOT_PROVIDED) is models.NOT_PROVIDED:
        # Backwards, the rows the new release inserted get the field's default before
        # NOT NULL comes back; without a default the column stays nullable.
        reverse: Any = migrations.RunSQL.noop
        if field.has_default():
            value = field.get_db_prep_save(field.get_default(), connections[ctx.database])
            reverse = [
                (f"UPDATE {qt} SET {qc} = %s WHERE {qc} IS NULL", [value]),
                f"ALTER TABLE {qt} ALTER COLUMN {qc} SET NOT NULL",
            ]
        database_now.append(
            migrations.RunSQL(f"ALTER TABLE {qt} ALTER COLUMN {qc} DROP NOT NULL", reverse)
        )
    return Rewrite(
        PATTERN,
        [
            Step(
                f"remove_{op.name}_state_only",
                [
                    migrations.SeparateDatabaseAndState(
                        database_operations=database_now, state_operations=[op]
                    )
                ],
                comment=f"Django forgets {op.model_name}.{op.name}; the column stays"
                + (" (nullable now, so INSERTs without it succeed)." if database_now else "."),
                ignore={
                    0: {
                        "drop-not-null": "the column is being retired: the new release "
                        "no longer writes it"
                    }
                }
                if database_now
                else {},
            ),
            Step(
                f"drop_{op.name}_column",
                [
                    migrations.RunSQL(
                        f"ALTER TABLE {qt} DROP COLUMN {qc}",
                        f"ALTER TABLE {qt} ADD COLUMN {qc} {ctx.db_type(field)} NULL",
                    )
                ],
                phase="post",
                comment=f"Drop {table}.{column} after the release that stopped using it.",
            ),
        ],
        expected={
            "drop-column": "post-deploy: it runs after the release that no longer reads the "
            "column (migrate --phase post); a reviewer confirms the data may go"
        },
    )


def _delete_model(op: migrations.DeleteModel, ctx: FixContext) -> Rewrite:
    model = ctx.model(op.name)
    table = model._meta.db_table
    with connections[ctx.database].schema_editor(collect_sql=True, atomic=False) as editor:
        editor.create_model(model)
    create: list[Any] = [str(s) for s in editor.collected_sql]  # with the deferred SQL, run on exit
    return Rewrite(
        PATTERN,
        [
            Step(
                f"delete_{op.name_lower}_state_only",
                [migrations.SeparateDatabaseAndState(state_operations=[op])],
                comment=f"Django forgets {op.name}; the table {table} stays.",
            ),
            Step(
                f"drop_{op.name_lower}_table",
                [migrations.RunSQL(f"DROP TABLE {ctx.quote(table)}", create)],
                phase="post",
                comment=f"Drop {table} after the release that stopped using it (archive it "
                "first if its rows matter); the reverse creates it again, empty.",
            ),
        ],
        expected={
            "drop-table": "post-deploy: it runs after the release that no longer uses the "
            "table; reviewers approve the archive plan"
        },
    )
