"""`cluster`: CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from .common import AE


@register
class Cluster(Rule):
    kinds = frozenset({"CLUSTER"})
    id = "cluster"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE."
    why = "CLUSTER copies the whole table while reads and writes wait (sql-cluster.html)."
    safe_alternative = "Use pg_repack (`--order-by`); never in a migration."
    bad = """\
CLUSTER orders USING orders_pkey;
"""
    good = """\
-- Near miss: CLUSTER of a table created in this file (empty, unused).
CREATE TABLE "event_archive" ("id" bigint PRIMARY KEY, "payload" jsonb);
CLUSTER "event_archive" USING "event_archive_pkey";
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.facts.kind == "CLUSTER":
            yield Hit(
                message=f"CLUSTER {', '.join(ctx.facts.tables) or '(every clustered table)'} "
                "rewrites it under ACCESS EXCLUSIVE: the running release's reads and writes "
                "wait for the whole copy.",
                lock=AE,
                rewrites=True,
            )
