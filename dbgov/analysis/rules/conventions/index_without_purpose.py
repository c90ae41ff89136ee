"""`index-without-purpose`: An index names no query pattern that justifies it."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import IndexDetail
from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule
from ..helpers import new_constraints, target
from .common import bare_table


@register
class IndexWithoutPurpose(Rule):
    id = "index-without-purpose"
    severity = Severity.WARNING
    category = "conventions"
    summary = "An index names no query pattern that justifies it."
    why = (
        "Every index slows every write and costs memory; dbgov keeps indexes only when a "
        "named query pattern needs them, and rehearsals EXPLAIN that query before and after."
    )
    safe_alternative = (
        'Name the query in the migration: `dbgov_index_purpose = {"<index name>": "<query '
        'pattern>"}` (and register the pattern), or drop the index.'
    )
    bad = """\
migrations.AddIndex("order", models.Index(fields=["status"], name="orders_status_idx"))
"""
    good = """\
dbgov_index_purpose = {"orders_status_idx": "open orders by status"}
operations = [AddIndexConcurrently("order", models.Index(fields=["status"], name="orders_status_idx"))]
"""

    _INDEX_OPS = ("AddIndex", "AddIndexConcurrently", "RunSQL")
    # Field operations create indexes for `db_index=True` too; the ones Django adds for
    # a foreign key (the key justifies them) and the `_like` companions are skipped.
    _FIELD_OPS = ("AddField", "AlterField", "CreateModel")

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        op_type = ctx.operation.type
        if op_type not in self._INDEX_OPS and op_type not in self._FIELD_OPS:
            return
        purposes = ctx.migration.index_purpose
        fk_columns: set[tuple[str, tuple[str, ...]]] = set()
        if op_type in self._FIELD_OPS:
            for facts in ctx.facts():
                for con in new_constraints(facts):
                    if con.type == "FOREIGN KEY":
                        fk_columns.add((bare_table(target(facts)), tuple(con.columns)))
        for facts in ctx.facts():
            index = facts.detail(IndexDetail)
            if index is not None:
                name = index.index
                if op_type in self._FIELD_OPS and (
                    str(name).endswith("_like")
                    or (bare_table(target(facts)), index.columns) in fk_columns
                ):
                    continue
                if name and name not in purposes:
                    yield Hit(
                        message=f"Index {name} on {target(facts)} names no query pattern.",
                        table=target(facts),
                    )
                elif (
                    name
                    and ctx.plan.query_patterns is not None
                    and purposes[name] not in ctx.plan.query_patterns
                ):
                    yield Hit(
                        message=f"Index {name} on {target(facts)} names the query pattern "
                        f"{purposes[name]!r}, which is not registered.",
                        table=target(facts),
                    )
