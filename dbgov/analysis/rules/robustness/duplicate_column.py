"""`duplicate-column`: The same column is assigned or defined twice: the statement fails."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ...details import CreateTableDetail, DmlDetail, QueryDetail, ViewDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target


@register
class DuplicateColumnAssignment(Rule):
    kinds = frozenset(
        {
            "UPDATE",
            "INSERT",
            "MERGE",
            "CREATE TABLE",
            "ALTER TABLE",
            "CREATE VIEW",
            "CREATE TABLE AS",
            "CREATE MATERIALIZED VIEW",
        }
    )
    id = "duplicate-column"
    severity = Severity.CARE
    category = "robustness"
    scope = "sql"
    summary = "The same column is assigned or defined twice: the statement fails."
    why = 'PostgreSQL rejects it at run time ("multiple assignments to same column" / "specified more than once").'
    safe_alternative = "Assign or define each column once."
    bad = """\
UPDATE orders SET status = 'paid', status = 'new' WHERE id = 1;
"""
    good = """\
UPDATE orders SET status = 'paid', currency = 'EUR' WHERE id = 1;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        d = f.details
        lists: list[list[str]] = []
        if isinstance(d, DmlDetail):
            lists.append([c for c in d.columns if c])
            # INSERT … ON CONFLICT DO UPDATE SET, MERGE's WHEN clauses
            lists.extend(list(names) for names in d.assignment_lists)
        elif isinstance(d, CreateTableDetail):
            lists.append([c.name for c in d.columns if c.name])
        elif isinstance(d, QueryDetail):  # views, CREATE TABLE AS, SELECT … INTO
            lists.append(list(d.output_columns))
        lists.append([c.column.name for c in commands(f, "ADD COLUMN") if c.column])
        name_of = (d.view if isinstance(d, ViewDetail) else None) or target(f)
        for names in lists:
            for name, count in Counter(names).items():
                if count > 1:
                    yield Hit(
                        message=f"Column {name!r} appears {count} times in {f.kind} "
                        f"{name_of}: PostgreSQL rejects the statement and the migration fails."
                    )
