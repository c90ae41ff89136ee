"""`drop-object`: A view, type, domain, function, sequence, extension or foreign table is dropped (or a composite type's attribute)."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import DropDetail
from ...model import LockLevel, Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands

_DROP_KINDS = frozenset(
    {
        "DROP VIEW",
        "DROP MATERIALIZED VIEW",
        "DROP TYPE",
        "DROP DOMAIN",
        "DROP FUNCTION",
        "DROP PROCEDURE",
        "DROP SEQUENCE",
        "DROP EXTENSION",
        "DROP FOREIGN TABLE",
    }
)


# What CASCADE takes with it, per kind of object dropped (sql-drop*.html).
_CASCADE_TAKES = {
    "DROP TYPE": "every table column of that type",
    "DROP DOMAIN": "every table column of that domain",
    "DROP FUNCTION": "the defaults, triggers, views and constraints that call it",
    "DROP PROCEDURE": "the objects that call it",
    "DROP SEQUENCE": "the column defaults that call nextval() on it",
    "DROP EXTENSION": "every column, index and function using its types and functions",
    "DROP VIEW": "the views built on it",
    "DROP MATERIALIZED VIEW": "the views built on it",
    "DROP FOREIGN TABLE": "the views built on it",
}


@register
class DropObject(Rule):
    kinds = _DROP_KINDS | {"ALTER TYPE"}
    id = "drop-object"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    summary = (
        "A view, type, domain, function, sequence, extension or foreign table is dropped "
        "(or a composite type's attribute)."
    )
    why = (
        "The running release's SQL that reads the view, calls the function or uses the type "
        "fails as soon as the drop commits; with CASCADE PostgreSQL also drops what depends "
        "on the object — table columns of a dropped type or domain (their data is gone), "
        "defaults calling a dropped function or sequence — under ACCESS EXCLUSIVE on those "
        "tables."
    )
    safe_alternative = (
        "1. Deploy code that no longer uses the object. 2. Drop it without CASCADE in a later "
        "release, so PostgreSQL refuses if anything still depends on it; drop the dependent "
        "columns first, each reviewed as a RemoveField."
    )
    bad = """\
-- The running release's reports read this view.
DROP VIEW "order_totals";
"""
    good = """\
-- Near miss: ALTER TYPE that adds an attribute instead of dropping one.
ALTER TYPE "address" ADD ATTRIBUTE "zip" text;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if f.kind == "ALTER TYPE":
            for cmd in commands(f, "DROP COLUMN"):
                cascade = bool(cmd.cascade)
                yield Hit(
                    message=f"DROP ATTRIBUTE {cmd.column_name} of type "
                    f"{f.details.table}: the running release's SQL reading it fails"
                    + (
                        ", and CASCADE drops it from every table of that type under ACCESS "
                        "EXCLUSIVE (its data is gone)."
                        if cascade
                        else "."
                    ),
                    severity=Severity.PLAN if cascade else None,
                )
            return
        if f.kind not in _DROP_KINDS:
            return
        what = f.kind.removeprefix("DROP ").lower()
        drop = f.detail(DropDetail) or DropDetail()
        names = ", ".join(drop.objects)
        if drop.cascade:
            yield Hit(
                message=f"DROP {what.upper()} {names} CASCADE also drops "
                f"{_CASCADE_TAKES[f.kind]}, under ACCESS EXCLUSIVE on their tables; the "
                "running release's SQL using them fails.",
                table=names or None,
                lock=LockLevel.ACCESS_EXCLUSIVE,
                severity=Severity.PLAN,
            )
        else:
            lock = f" ({f.lock.value})" if f.lock else ""
            yield Hit(
                message=f"Dropping {what} {names}{lock} makes the running release's SQL that "
                "uses it fail.",
                table=names or None,
            )
