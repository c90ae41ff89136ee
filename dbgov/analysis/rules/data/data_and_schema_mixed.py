"""`data-and-schema-mixed`: Data changes and schema changes share one atomic migration."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...model import Severity
from .. import register
from ..base import Hit, MigrationContext, Rule

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


def _names(operations: list[Any]) -> str:
    return ", ".join(f"#{o.index} {o.type}" for o in operations)


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
    bad = """\
operations = [
    migrations.AddField("order", "currency", models.CharField(max_length=3, null=True)),
    migrations.RunPython(backfill_currency, migrations.RunPython.noop),
]
"""
    good = """\
# 0012: AddField only
# 0013 (dependencies = [0012]): RunPython only
"""

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
