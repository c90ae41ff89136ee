"""`vacuum-full`: VACUUM FULL rewrites the table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import VacuumDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from .common import AE


@register
class VacuumFull(Rule):
    kinds = frozenset({"VACUUM"})
    id = "vacuum-full"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE."
    why = "VACUUM FULL writes a compacted copy of the table while reads and writes wait (sql-vacuum.html)."
    safe_alternative = "Use pg_repack / pg_squeeze, or plain VACUUM; never in a migration."
    bad = """\
VACUUM FULL orders;
"""
    good = """\
VACUUM (ANALYZE) orders;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        vacuum = ctx.facts.detail(VacuumDetail)
        if vacuum is not None and vacuum.full:
            yield Hit(
                message=f"VACUUM FULL {', '.join(ctx.facts.tables) or '(every table)'} rewrites "
                "it under ACCESS EXCLUSIVE: the running release's reads and writes wait for the "
                "whole copy.",
                lock=AE,
                rewrites=True,
            )
