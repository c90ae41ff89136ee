"""`add-primary-key-without-index`: ADD PRIMARY KEY builds its index (and checks NOT NULL) under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import commands, target
from .common import AE


@register
class AddPrimaryKeyWithoutIndex(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT PRIMARY KEY"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-primary-key-without-index"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "ADD PRIMARY KEY builds its index (and checks NOT NULL) under ACCESS EXCLUSIVE."
    why = (
        "Without USING INDEX, PostgreSQL builds the unique index while holding ACCESS "
        "EXCLUSIVE, and sets NOT NULL on the columns (another scan)."
    )
    safe_alternative = (
        "1. `CREATE UNIQUE INDEX CONCURRENTLY` (AddIndexConcurrently, `atomic = False`). "
        "2. Make the columns NOT NULL safely (CHECK … NOT VALID, VALIDATE, SET NOT NULL). "
        "3. `ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …` (RunSQL inside "
        "SeparateDatabaseAndState)."
    )
    bad = """\
ALTER TABLE events ADD PRIMARY KEY (id);
"""
    good = """\
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_uniq;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        for cmd in commands(ctx.facts, "ADD CONSTRAINT PRIMARY KEY"):
            if not (cmd.constraint and cmd.constraint.using_index):
                yield Hit(
                    message=f"PRIMARY KEY on {target(ctx.facts)} is built under ACCESS "
                    "EXCLUSIVE: the running release's reads and writes wait for the whole "
                    "index build.",
                    table=target(ctx.facts),
                    lock=AE,
                    scans=True,
                )
