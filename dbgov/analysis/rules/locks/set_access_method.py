"""`set-access-method`: SET ACCESS METHOD rewrites the whole table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from .. import register
from .common import RewriteRule


@register
class SetAccessMethod(RewriteRule):
    needs_actions = frozenset({"SET ACCESS METHOD"})
    id = "set-access-method"
    actions = ("SET ACCESS METHOD",)
    summary = "SET ACCESS METHOD rewrites the whole table under ACCESS EXCLUSIVE."
    why = "The table is copied into the new table access method while reads and writes wait."
    safe_alternative = (
        "Create a new table with the access method and move the data with logical "
        "replication or batched copies; never in a regular migration."
    )
    bad = """\
ALTER TABLE "events" SET ACCESS METHOD "columnar";
"""
    good = """\
-- Near miss: the table is created in this file (empty, unused).
CREATE TABLE "event_archive" ("id" bigint PRIMARY KEY, "payload" jsonb);
ALTER TABLE "event_archive" SET ACCESS METHOD "heap";
"""
