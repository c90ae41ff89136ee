"""`drop-table`: DROP TABLE destroys data and breaks code still using the table."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class DropTable(Rule):
    kinds = frozenset({"DROP TABLE"})
    id = "drop-table"
    severity = Severity.PLAN
    category = "breaking"
    scope = "sql"
    locking = True
    summary = "DROP TABLE destroys data and breaks code still using the table."
    why = "The data is gone once committed; DROP TABLE takes ACCESS EXCLUSIVE."
    safe_alternative = (
        "1. Stop using the model in code and deploy. 2. Archive the table (pg_dump -t, or "
        "rename it to an _archived name). 3. DeleteModel in a later release, with an "
        "approved plan."
    )
    bad = """\
DROP TABLE "legacy_orders" CASCADE;
"""
    good = """\
-- Near miss: a scratch table created and dropped in the same file holds no live data.
CREATE TABLE "import_batch" ("id" bigint PRIMARY KEY, "payload" jsonb);
DROP TABLE "import_batch";
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.facts.kind == "DROP TABLE":
            tables = ", ".join(ctx.facts.tables)
            yield Hit(
                message=f"DROP TABLE {tables} (ACCESS EXCLUSIVE) destroys its data and makes the "
                "running release's queries on it fail."
            )
