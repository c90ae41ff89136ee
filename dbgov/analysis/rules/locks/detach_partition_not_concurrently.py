"""`detach-partition-not-concurrently`: DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target
from .common import AE


@register
class DetachPartitionNotConcurrently(Rule):
    needs_actions = frozenset({"DETACH PARTITION"})
    kinds = frozenset({"ALTER TABLE"})
    id = "detach-partition-not-concurrently"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = (
        "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table."
    )
    why = (
        "Plain DETACH PARTITION blocks every query on the whole partitioned table; with "
        "CONCURRENTLY (PostgreSQL 14+) the parent only gets SHARE UPDATE EXCLUSIVE."
    )
    safe_alternative = (
        "`ALTER TABLE … DETACH PARTITION … CONCURRENTLY` in a RunSQL of a migration with "
        "`atomic = False`."
    )
    bad = """\
ALTER TABLE measurements DETACH PARTITION measurements_2020;
"""
    good = """\
ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "DETACH PARTITION"):
            if not cmd.concurrently:
                yield Hit(
                    message=f"DETACH PARTITION {cmd.partition} from {target(ctx.facts)} "
                    "without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table: the "
                    "running release's queries on every partition wait.",
                    table=target(ctx.facts),
                    lock=AE,
                )
