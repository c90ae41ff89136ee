"""`set-tablespace`: SET TABLESPACE copies the whole table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from .. import register
from .common import RewriteRule


@register
class SetTablespace(RewriteRule):
    needs_actions = frozenset({"SET TABLESPACE"})
    id = "set-tablespace"
    actions = ("SET TABLESPACE",)
    summary = "SET TABLESPACE copies the whole table under ACCESS EXCLUSIVE."
    why = "The table's files are copied to the new tablespace while reads and writes wait."
    safe_alternative = (
        "Use pg_repack (`--tablespace`) or logical replication into a new table; never "
        "in a regular migration."
    )
    bad = """\
ALTER TABLE orders SET TABLESPACE fast_ssd;
"""
    good = """\
-- Near miss: the table is created in this file (empty, unused).
CREATE TABLE "event_archive" ("id" bigint PRIMARY KEY);
ALTER TABLE "event_archive" SET TABLESPACE "pg_default";
"""
