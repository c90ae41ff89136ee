"""AddIndex / AlterField(db_index=True) / a unique constraint → built CONCURRENTLY.

Before: ``CREATE INDEX`` holds SHARE on the table for the whole build (writes wait);
a UNIQUE constraint builds its index under ACCESS EXCLUSIVE.

After: the index is built with ``CREATE [UNIQUE] INDEX CONCURRENTLY`` in a non-atomic
migration (SHARE UPDATE EXCLUSIVE: reads and writes go on). A unique constraint is
then attached to that index in its own migration (``ADD CONSTRAINT … UNIQUE USING
INDEX``: a brief ACCESS EXCLUSIVE, no build, no scan).
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import connections, migrations, models
from django.db.migrations.operations.base import Operation

from .steps import FixContext, FixError, Rewrite, Step, differs_only_in

PATTERN = "index_concurrently"


def _is_unique_constraint(op: Operation) -> bool:
    return isinstance(op, migrations.AddConstraint) and isinstance(
        op.constraint, models.UniqueConstraint
    )


def matches(op: Operation, ctx: FixContext) -> bool:
    if isinstance(op, migrations.AddIndex):
        return True
    if _is_unique_constraint(op):
        return True
    if isinstance(op, migrations.AlterField):
        old: Any = ctx.model(op.model_name)._meta.get_field(op.name)
        new: Any = op.field
        same_otherwise = differs_only_in(old, new, {"db_index", "unique"})
        adds_index = new.db_index and not old.db_index and not old.unique and not new.unique
        adds_unique = new.unique and not old.unique and not old.primary_key
        return bool(same_otherwise and (adds_index or adds_unique))
    return False


def rewrite(op: Operation, ctx: FixContext) -> Rewrite:
    if isinstance(op, migrations.AddIndex):
        return Rewrite(
            PATTERN,
            [
                Step(
                    f"{op.index.name}_concurrently".lower(),
                    [AddIndexConcurrently(model_name=op.model_name, index=op.index)],
                    atomic=False,
                    comment="CREATE INDEX CONCURRENTLY: reads and writes go on while it builds "
                    "(a failed build leaves an INVALID index: migrate again after dropping it).",
                )
            ],
        )
    if _is_unique_constraint(op):
        return _unique(op, ctx)  # type: ignore[arg-type]
    assert isinstance(op, migrations.AlterField)
    model = ctx.model(op.model_name)
    table, column = model._meta.db_table, model._meta.get_field(op.name).column
    editor: Any
    with connections[ctx.database].schema_editor(collect_sql=True, atomic=False) as editor:
        # The names Django gives these, so a later AlterField finds them.
        index = editor._create_index_name(table, [column], suffix="")
        unique = editor._create_index_name(table, [column], suffix="_uniq")
    qt, qc, qi = ctx.quote(table), ctx.quote(column), ctx.quote(index)
    like = _like_index(op.field, table, column, ctx)
    if op.field.unique:
        return _unique_steps(op, ctx, table, qc, unique, f"{op.name}_unique", like)
    database = [
        migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {qi} ON {qt} ({qc})",
            f"DROP INDEX CONCURRENTLY IF EXISTS {qi}",
        ),
        *like,
    ]
    return Rewrite(
        PATTERN,
        [
            Step(
                f"{op.name}_index_concurrently",
                [
                    migrations.SeparateDatabaseAndState(
                        database_operations=database, state_operations=[op]
                    )
                ],
                atomic=False,
                comment="db_index=True, built CONCURRENTLY under Django's own index name.",
            )
        ],
    )


def _like_index(field: Any, table: str, column: str, ctx: FixContext) -> list[Operation]:
    """The pattern-ops twin Django adds for LIKE on a varchar / text column (schema.py)."""
    db_type = ctx.db_type(field)
    opclass = (
        "varchar_pattern_ops"
        if db_type.startswith("varchar")
        else "text_pattern_ops"
        if db_type.startswith("text")
        else None
    )
    if not opclass or getattr(field, "db_collation", None) or "[" in db_type:
        return []
    editor: Any
    with connections[ctx.database].schema_editor(collect_sql=True, atomic=False) as editor:
        like = ctx.quote(editor._create_index_name(table, [column], suffix="_like"))
    return [
        migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {like} ON {ctx.quote(table)} "
            f"({ctx.quote(column)} {opclass})",
            f"DROP INDEX CONCURRENTLY IF EXISTS {like}",
        )
    ]


def _unique(op: migrations.AddConstraint, ctx: FixContext) -> Rewrite:
    constraint: Any = op.constraint
    if (
        constraint.expressions
        or constraint.condition is not None
        or constraint.include
        or constraint.opclasses
        or constraint.deferrable
        or getattr(constraint, "nulls_distinct", None) is not None
    ):
        raise FixError(
            f"{ctx.app_label}.{ctx.migration_name}: unique constraint {constraint.name} has "
            "expressions, a condition or options; dbgov fix rewrites plain unique columns only"
        )
    model = ctx.model(op.model_name)
    columns = ", ".join(ctx.quote(model._meta.get_field(f).column) for f in constraint.fields)
    return _unique_steps(
        op, ctx, model._meta.db_table, columns, constraint.name, constraint.name.lower(), []
    )


def _unique_steps(
    op: Operation,
    ctx: FixContext,
    table: str,
    columns: str,
    name: str,
    label: str,
    extra: list[Operation],
) -> Rewrite:
    """The unique index built CONCURRENTLY, then the constraint attached to it."""
    qt, qn = ctx.quote(table), ctx.quote(name)
    return Rewrite(
        PATTERN,
        [
            Step(
                f"{label}_index_concurrently",
                [
                    migrations.RunSQL(
                        f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {qn} ON {qt} ({columns})",
                        f"DROP INDEX CONCURRENTLY IF EXISTS {qn}",
                    ),
                    *extra,
                ],
                atomic=False,
                comment="The unique index, built CONCURRENTLY (duplicates make it fail and "
                "leave an INVALID index: drop it, fix the data, migrate again).",
            ),
            Step(
                f"{label}_attach",
                [
                    migrations.SeparateDatabaseAndState(
                        database_operations=[
                            migrations.RunSQL(
                                f"ALTER TABLE {qt} ADD CONSTRAINT {qn} UNIQUE USING INDEX {qn}",
                                f"ALTER TABLE {qt} DROP CONSTRAINT {qn}",
                            )
                        ],
                        state_operations=[op],
                    )
                ],
                comment="Attach the constraint to the built index: no build, no scan.",
            ),
        ],
        expected={
            "add-unique-index": "the uniqueness is what the migration asks for: the build "
            "no longer blocks writes, but a reviewer confirms the rows hold no duplicates "
            "and the running release writes none"
        },
    )
