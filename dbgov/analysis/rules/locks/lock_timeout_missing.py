"""`lock-timeout-missing`: A lock that blocks writes (SHARE or stronger) is requested with no lock_timeout / statement_timeout in force."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class AccessExclusiveWithoutTimeout(Rule):
    id = "lock-timeout-missing"
    severity = Severity.WARNING
    category = "locks"
    scope = "sql"
    locking = True
    # Opt-in: on by default it would flag nearly every safe migration (set the timeout
    # for the migrating role instead, or enable the rule to require it per migration).
    opt_in = True
    summary = (
        "A lock that blocks writes (SHARE or stronger) is requested with no lock_timeout / "
        "statement_timeout in force."
    )
    why = (
        "A statement waiting for its lock behind any long-running transaction makes every "
        "later conflicting query wait behind it: a queued ACCESS EXCLUSIVE stops reads and "
        "writes, a queued SHARE (plain CREATE INDEX) or SHARE ROW EXCLUSIVE (FOREIGN KEY, "
        "trigger) stops every INSERT, UPDATE and DELETE. Without lock_timeout a brief ALTER "
        "can take the site down; RESET lock_timeout turns the protection off again."
    )
    safe_alternative = (
        "Start the migration with `migrations.RunSQL(\"SET lock_timeout = '5s'\", "
        "reverse_sql=migrations.RunSQL.noop)` (or set it for the migrating role) and retry "
        "on timeout."
    )
    bad = """\
ALTER TABLE orders ADD COLUMN note text;
"""
    good = """\
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
"""

    def __init__(self) -> None:
        self._reported: set[int] = set()

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        if ctx.timeout_set or f.lock is None or not f.lock.blocks_writes:
            return
        # once per migration / file: the fix is one SET at its start
        key = id(ctx.migration) if ctx.migration is not None else -1
        if key in self._reported:
            return
        blocking = [t for t in f.locks if t.lock.blocks_writes and not ctx.is_new(t.table)]
        if blocking:
            self._reported.add(key)
            strongest = max((t.lock for t in blocking), key=lambda lk: lk.rank)
            tables = ", ".join(dict.fromkeys(t.table for t in blocking))
            stops = "query" if strongest.blocks_reads else "write"
            yield Hit(
                message=f"{f.kind} waits for {strongest.value} on {tables} with no "
                f"lock_timeout set: while it waits behind a long transaction, every {stops} "
                f"of the running release on {tables} queues behind it.",
                table=blocking[0].table,
                lock=strongest,
            )
