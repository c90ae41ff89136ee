"""`sql-parse-error`: PostgreSQL's parser rejects this SQL."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class SqlParseError(Rule):
    # every kind: a statement that parses is the near miss (parse errors have kind "")
    id = "sql-parse-error"
    severity = Severity.ERROR
    category = "analysis"
    scope = "sql"
    summary = "PostgreSQL's parser rejects this SQL."
    why = "A statement that does not parse fails when the migration runs."
    safe_alternative = "Fix the SQL; `psql` reports the same error at the same position."
    bad = """\
ALTER TABLE orders ADD COLUMN;
"""
    good = """\
-- Near misses that do parse: a keyword as a quoted column name, semicolons inside a
-- dollar-quoted body.
ALTER TABLE orders ADD COLUMN "order" text;
DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        if ctx.facts.parse_error:
            error = ctx.facts.parse_error.rstrip(".")
            yield Hit(
                message=f"PostgreSQL's parser rejects this statement ({error}), so the "
                "migration fails here."
            )
