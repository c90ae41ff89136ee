"""`add-unique-index`: A unique index on an existing table can reject the running release's writes."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import IndexDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import target


@register
class AddUniqueIndex(Rule):
    kinds = frozenset({"CREATE INDEX"})
    id = "add-unique-index"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "A unique index on an existing table can reject the running release's writes."
    why = (
        "CREATE UNIQUE INDEX (even CONCURRENTLY, which keeps writes flowing while it builds) "
        "fails if the rows already hold duplicates — a CONCURRENTLY build then leaves an "
        "INVALID index behind that still slows writes — and once built it rejects every "
        "INSERT or UPDATE of the running release that would duplicate a key."
    )
    safe_alternative = (
        "1. Check for duplicates with a GROUP BY … HAVING count(*) > 1 query and clean them "
        "up. 2. Deploy code that never writes duplicates (get_or_create / update_or_create, "
        "or handle IntegrityError). 3. Then build the index CONCURRENTLY in a migration with "
        "`atomic = False`; drop an INVALID leftover before retrying."
    )
    bad = """\
-- The build keeps writes flowing, but duplicates fail it and the new uniqueness
-- rejects the running release's duplicate writes.
CREATE UNIQUE INDEX CONCURRENTLY "customers_email_uniq" ON "customers" ("email");
"""
    good = """\
-- Near misses: a unique index on a table created in this file (nobody writes to it
-- yet), and a plain (non-unique) index built concurrently.
CREATE TABLE "customer_aliases" ("id" bigint PRIMARY KEY, "email" text NOT NULL);
CREATE UNIQUE INDEX "customer_aliases_email_uniq" ON "customer_aliases" ("email");
CREATE INDEX CONCURRENTLY "customers_email_idx" ON "customers" ("email");
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        d = ctx.facts.detail(IndexDetail)
        if d is None or not d.unique:
            return
        table = target(ctx.facts)
        if ctx.is_new(table):
            return
        keys = ", ".join(d.columns) or "its expressions"
        if d.expressions and d.columns:
            keys += " and expressions"
        how = "CONCURRENTLY " if ctx.facts.concurrently else ""
        lock = ctx.facts.lock.value if ctx.facts.lock else "its lock"
        yield Hit(
            message=f"CREATE UNIQUE INDEX {how}on {table} ({keys}) under {lock} fails on "
            "existing duplicates and then rejects the running release's writes that "
            "duplicate a key.",
            table=table,
        )
