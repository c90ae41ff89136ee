"""`set-logged-unlogged`: SET LOGGED / UNLOGGED rewrites the whole table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from .. import register
from .common import RewriteRule


@register
class SetLoggedUnlogged(RewriteRule):
    needs_actions = frozenset({"SET LOGGED", "SET UNLOGGED"})
    id = "set-logged-unlogged"
    actions = ("SET LOGGED", "SET UNLOGGED")
    summary = "SET LOGGED / UNLOGGED rewrites the whole table under ACCESS EXCLUSIVE."
    why = "Changing persistence writes a new copy of the table (and WAL for all of it when LOGGED)."
    safe_alternative = (
        "Create the table with the right persistence from the start; for an existing large "
        "table plan a maintenance window."
    )
    bad = """\
ALTER TABLE orders SET UNLOGGED;
"""
    good = """\
-- Near miss: the table is created in this file (empty, unused).
CREATE TABLE "scratch" ("id" bigint);
ALTER TABLE "scratch" SET UNLOGGED;
"""
