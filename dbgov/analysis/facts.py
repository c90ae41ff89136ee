"""Attach SQL facts (the sql package) to every rendered statement and mark new tables.

"New tables are not hot": a table created earlier in the plan has no traffic yet, so
locking rules skip it (convention rules still apply). Tasks ship separately, though:
by the time a later task's migration runs, a table an earlier task created is live.
So a table counts as new for the migrations of the task that created it (and, for
migrations that name no task, for the whole plan). ``single_deploy=True`` treats the
whole plan as one deploy.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

from .details import DropDetail, ViewDetail
from .locks import pg_major
from .model import Operation, Plan, Statement, StatementFacts
from .schema import Schema
from .sql import split_and_analyse

# Marks a table created by a migration that names no task: new for everyone.
ANY_TASK = "*"


@functools.lru_cache(maxsize=4096)
def normalize_table(name: str) -> str:
    """Compare table names the way PostgreSQL resolves unquoted ones in ``public``."""
    bare = name.replace('"', "").lower()
    return bare[len("public.") :] if bare.startswith("public.") else bare


def created_table(facts: StatementFacts) -> str | None:
    """The (normalized) relation a CREATE TABLE / CREATE TABLE AS / SELECT INTO / CREATE
    [MATERIALIZED] VIEW statement creates (CREATE OR REPLACE VIEW may replace a live one)."""
    kind = facts.kind
    view = facts.detail(ViewDetail)
    if kind in ("CREATE TABLE", "CREATE TABLE AS", "CREATE MATERIALIZED VIEW"):
        name = facts.details.table
    elif kind == "CREATE VIEW" and view is not None and not view.replace:
        name = view.view
    else:
        return None
    return normalize_table(name) if name else None


def created_before_each(
    facts: Sequence[StatementFacts | None], *, in_transaction: bool = False
) -> list[frozenset[str]]:
    """For each statement in execution order, the (normalized) tables that earlier
    statements created and that still exist: a ROLLBACK undoes the CREATEs since its
    BEGIN (or since the start, in a migration that runs in one transaction), a DROP
    TABLE removes the table. A statement before the CREATE does not see it as new."""
    live: set[str] = set()
    since_begin: set[str] | None = set() if in_transaction else None
    out: list[frozenset[str]] = []
    for f in facts:
        out.append(frozenset(live))
        if f is None:
            continue
        new = created_table(f)
        if new:
            live.add(new)
            if since_begin is not None:
                since_begin.add(new)
        elif f.kind == "DROP TABLE":
            drop = f.detail(DropDetail)
            live.difference_update(normalize_table(t) for t in (drop.objects if drop else ()))
        elif f.kind == "BEGIN":
            since_begin = set()
        elif f.kind in ("COMMIT", "END"):
            since_begin = None
        elif f.kind == "ROLLBACK":
            live.difference_update(since_begin or ())
            since_begin = None
    return out


def is_new_for(created_by: dict[str, str], table: str, task: str | None) -> bool:
    """Whether ``table`` was created earlier in the plan, from the point of view of ``task``."""
    creator = created_by.get(normalize_table(table))
    return creator is not None and (task is None or creator in (ANY_TASK, task))


def attach_facts(
    plan: Plan,
    *,
    single_deploy: bool = False,
    function_volatility: Callable[[str], str | None] | None = None,
    schema: Schema | None = None,
) -> dict[str, str]:
    """Fill ``Statement.facts`` and ``Statement.new_table``.

    ``function_volatility`` (qualified or bare name → 'i' / 's' / 'v' or None) answers
    for functions the built-in pg_proc data does not know (user-defined ones: the engine
    reads them from its sandbox); ``schema`` may answer more (see schema.py). The old
    type of an AlterField's column comes from Django (``Operation.details``).

    Returns {table: task key of the migration that created it, or ANY_TASK}.
    """
    major = pg_major(plan.server_version) if plan.server_version else None
    base = schema or Schema(major=major)
    if function_volatility is not None:
        base = dataclasses.replace(base, function_volatility=function_volatility)
    created_by: dict[str, str] = {}
    for migration in plan.migrations:
        task = None if single_deploy else migration.task
        for operation in migration.operations:
            operation.statements = _one_per_statement(
                operation.statements, plan.server_version, _operation_schema(base, operation)
            )
            for statement in operation.statements:
                facts = statement.facts
                assert facts is not None
                tables = [normalize_table(t) for t in facts.tables]
                new = created_table(facts)
                if new:
                    # Only the created table is new: the target of its FOREIGN KEY is not.
                    created_by[new] = task or ANY_TASK
                    statement.new_table = True
                else:
                    statement.new_table = bool(tables) and all(
                        is_new_for(created_by, t, task) for t in tables
                    )
    return created_by


def _operation_schema(base: Schema, operation: Operation) -> Schema:
    """``base``, plus the old type Django knows for the column an AlterField changes."""
    old = operation.details.get("old_type") if operation.details else None
    column = operation.details.get("column") if operation.details else None
    if not old or not column:
        return base
    fallback = base.column_type

    def column_type(table: str, name: str) -> str | None:
        if name == column:
            return str(old)
        return fallback(table, name) if fallback else None

    return dataclasses.replace(base, column_type=column_type)


def _one_per_statement(
    statements: list[Statement], pg_version: int | None, schema: Schema | None = None
) -> list[Statement]:
    """Django sometimes executes two statements in one string (ADD COLUMN …; SET
    CONSTRAINTS …): split them so that every Statement is one SQL statement."""
    result: list[Statement] = []
    for statement in statements:
        parts = split_and_analyse(statement.sql, pg_version=pg_version, schema=schema)
        if len(parts) == 1:
            statement.facts = parts[0]
            result.append(statement)
            continue
        for facts in parts:
            sql = facts.sql if facts.sql.rstrip().endswith(";") else facts.sql.rstrip() + ";"
            result.append(
                Statement(
                    sql=sql,
                    facts=facts,
                    deferred=statement.deferred,
                    # The parts run where the string ran (stable sort keeps their order).
                    position=statement.position,
                    failed=statement.failed,
                )
            )
    return result
