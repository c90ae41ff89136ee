"""Data changes: unbatched whole-table DML, data mixed with schema changes, RunPython
code that imports models instead of using the historical ``apps``."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from ..details import DmlDetail
from ..model import Severity
from . import register
from .base import Hit, MigrationContext, OperationContext, Rule, StatementContext

_DML = frozenset({"UPDATE", "DELETE", "INSERT", "MERGE", "COPY"})
_NOT_SCHEMA = _DML | frozenset(
    {
        "SELECT",
        "SET",
        "RESET",
        "SET CONSTRAINTS",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE SAVEPOINT",
        "ROLLBACK TO SAVEPOINT",
        "COMMENT",
        "ANALYZE",
        "SHOW",
        "DO",
    }
)


@register
class UnbatchedWholeTableDml(Rule):
    kinds = frozenset({"UPDATE", "DELETE"})
    id = "dml-without-where"
    severity = Severity.CARE
    category = "data"
    scope = "sql"
    locking = True
    summary = "UPDATE / DELETE without WHERE touches every row in one transaction."
    why = (
        "One statement over the whole table locks every row it changes until the migration "
        "commits, bloats the table and the WAL, and blocks concurrent writers for its "
        "whole duration."
    )
    safe_alternative = (
        "Backfill in batches from a separate data migration (`atomic = False`, RunPython "
        "looping over primary-key ranges with a commit per batch), or run it as a "
        "background job after the deploy."
    )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        dml = f.detail(DmlDetail)
        if dml is not None and f.kind in ("UPDATE", "DELETE") and not dml.has_where:
            yield Hit(
                message=f"{f.kind} of every row of {dml.table} in one statement "
                "(ROW EXCLUSIVE) locks all of them until the migration commits: the running "
                "release's writes to those rows wait."
            )


def _is_data_operation(operation: Any) -> bool:
    if operation.type == "RunPython":
        return True
    facts = [s.facts for s in operation.statements if s.facts is not None]
    return bool(facts) and any(f.kind in _DML for f in facts)


def _is_schema_operation(operation: Any) -> bool:
    if operation.type == "RunPython":
        return False
    return any(
        s.facts is not None and s.facts.kind not in _NOT_SCHEMA for s in operation.statements
    )


@register
class DataAndSchemaInOneMigration(Rule):
    id = "data-and-schema-mixed"
    severity = Severity.CARE
    category = "data"
    summary = "Data changes and schema changes share one atomic migration."
    why = (
        "In one transaction, the ACCESS EXCLUSIVE locks of the schema changes are held "
        "while the data migration runs (or the data migration's row locks while the ALTERs "
        "wait); a failure rolls both back, and PostgreSQL may refuse ALTER TABLE on a table "
        "with pending trigger events."
    )
    safe_alternative = (
        "Split it: one migration for the schema change, one (depending on it) for the data "
        "change — or set `atomic = False` and keep each step idempotent."
    )

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        m = ctx.migration
        if not m.atomic:
            return
        data = [o for o in m.operations if _is_data_operation(o)]
        # an operation counts once: an AlterField that also UPDATEs is not "data" and
        # "schema" at the same time (issue 10: "mixes data (AlterField) and schema
        # changes (AlterField)")
        schema = [o for o in m.operations if _is_schema_operation(o) and o not in data]
        data = [o for o in data if o.type in ("RunPython", "RunSQL")]
        if data and schema:
            yield Hit(
                message=f"{m.label} runs data changes ({_names(data)}) and schema changes "
                f"({_names(schema)}) in one transaction: the schema changes' locks are held "
                "while the data changes run."
            )


def _names(operations: list[Any]) -> str:
    return ", ".join(f"#{o.index} {o.type}" for o in operations)


def _model_globals(func: Any) -> list[str]:
    """Names of model classes a function takes from its module instead of ``apps``."""
    try:
        from django.db.models import Model
    except ImportError:  # pragma: no cover
        return []
    code = getattr(func, "__code__", None)
    module_globals = getattr(func, "__globals__", None)
    if code is None or module_globals is None:
        return []
    names: set[str] = set(code.co_names)
    stack = [c for c in code.co_consts if inspect.iscode(c)]
    while stack:  # nested functions / comprehensions
        nested = stack.pop()
        names.update(nested.co_names)
        stack.extend(c for c in nested.co_consts if inspect.iscode(c))
    found = []
    for name in sorted(names):
        value = module_globals.get(name)
        if (
            inspect.isclass(value)
            and issubclass(value, Model)
            or inspect.ismodule(value)
            and getattr(value, "__name__", "").endswith(".models")
        ):
            found.append(name)
    return found


@register
class RunPythonImportsModels(Rule):
    id = "runpython-imports-models"
    severity = Severity.CARE
    category = "data"
    summary = "RunPython uses models imported from the app instead of `apps.get_model`."
    why = (
        "The imported model is today's code, not the schema at this point of the history: "
        "the migration breaks (or writes wrong columns) as soon as the model changes later."
    )
    safe_alternative = (
        "Use the historical model: `def forwards(apps, schema_editor): Order = "
        'apps.get_model("shop", "Order")`, and never import app models in migrations.'
    )

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        op = ctx.django_operation
        if ctx.operation.type != "RunPython" or op is None:
            return
        for func in (getattr(op, "code", None), getattr(op, "reverse_code", None)):
            names = _model_globals(func) if func is not None else []
            if names:
                yield Hit(
                    message=f"{getattr(func, '__name__', 'RunPython code')} uses imported "
                    f"model(s) {', '.join(names)} instead of apps.get_model()."
                )
