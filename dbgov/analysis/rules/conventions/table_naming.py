"""`table-naming`: The table is not named `<app_label>_<table>`."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import RenameDetail
from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule
from .common import bare_table


@register
class TableNaming(Rule):
    id = "table-naming"
    severity = Severity.WARNING
    category = "conventions"
    summary = "The table is not named `<app_label>_<table>`."
    why = (
        "Predictable names tell at a glance which app owns a table (permissions, backups, "
        "dbgov's reports); custom db_table names break that."
    )
    safe_alternative = "Drop the custom `db_table` (Django names it `<app_label>_<model>`) or prefix it with the app label."
    bad = """\
migrations.CreateModel("Order", [...], options={"db_table": "orders"})
"""
    good = """\
migrations.CreateModel("Order", [...])  # table shop_order
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        prefix = f"{ctx.migration.app_label}_"
        if ctx.operation.type == "CreateModel":
            for facts in ctx.facts():
                if facts.kind == "CREATE TABLE":
                    table = bare_table(facts.details.table)
                    if not table.startswith(prefix):
                        yield Hit(
                            message=f"Table {table} does not start with {prefix!r}.", table=table
                        )
                    return
        elif ctx.operation.type in ("AlterModelTable", "RenameModel"):
            for facts in ctx.facts():
                if "RENAME TABLE" in facts.actions:
                    renamed = facts.detail(RenameDetail)
                    new = bare_table(renamed.new_name if renamed else None)
                    if not new.startswith(prefix):
                        yield Hit(
                            message=f"Table renamed to {new}, which does not start with {prefix!r}.",
                            table=new,
                        )
                    return
