"""`add-exclusion-constraint`: An EXCLUDE constraint builds its index and checks every row under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import target
from .common import AE


@register
class ExcludeConstraint(Rule):
    needs_actions = frozenset({"ADD CONSTRAINT EXCLUDE"})
    kinds = frozenset({"ALTER TABLE"})
    id = "add-exclusion-constraint"
    severity = Severity.CARE
    category = "locks"
    scope = "sql"
    locking = True
    summary = "An EXCLUDE constraint builds its index and checks every row under ACCESS EXCLUSIVE."
    why = (
        "ADD CONSTRAINT … EXCLUDE cannot be NOT VALID nor use an existing index: the whole "
        "table is indexed and checked while reads and writes wait."
    )
    safe_alternative = (
        "Add it while the table is small or empty, or in a maintenance window with an "
        "approved plan; there is no online alternative in PostgreSQL."
    )
    bad = """\
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
"""
    good = """\
-- Near miss: the EXCLUDE constraint is added to a table created in this file.
CREATE TABLE "room_holds" ("room" int NOT NULL, "during" tstzrange NOT NULL);
ALTER TABLE "room_holds" ADD CONSTRAINT "no_overlap" EXCLUDE USING gist ("room" WITH =, "during" WITH &&);
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if "ADD CONSTRAINT EXCLUDE" in ctx.facts.actions:
            yield Hit(
                message=f"EXCLUDE constraint on {target(ctx.facts)} builds its index and checks "
                "every row under ACCESS EXCLUSIVE: the running release's reads and writes wait "
                "for the whole build.",
                lock=AE,
                scans=True,
            )
