"""`drop-schema-or-database`: DROP SCHEMA / DROP DATABASE destroys everything in it."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import DropDetail, NamedDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class DropSchemaOrDatabase(Rule):
    kinds = frozenset({"CREATE SCHEMA", "DROP SCHEMA", "DROP DATABASE"})
    id = "drop-schema-or-database"
    severity = Severity.PLAN
    category = "breaking"
    scope = "sql"
    summary = "DROP SCHEMA / DROP DATABASE destroys everything in it."
    why = "Every table, function and row inside is gone once committed."
    safe_alternative = "Never in a migration: archive, then drop by hand under an approved plan."
    bad = """\
DROP SCHEMA reporting CASCADE;
"""
    good = """\
-- Near miss: a schema created in this file holds nothing of the running release.
CREATE SCHEMA IF NOT EXISTS "import_scratch";
DROP SCHEMA "import_scratch";
"""

    def __init__(self) -> None:
        # schemas created earlier in the same migration / file: {(migration id, name)}
        self._created: set[tuple[int, str]] = set()

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        key = id(ctx.migration) if ctx.migration is not None else -1
        f = ctx.facts
        named = f.detail(NamedDetail)
        if f.kind == "CREATE SCHEMA":
            self._created.add((key, str(named.name if named else "").lower()))
            return
        drop = f.detail(DropDetail)
        names = list(drop.objects) if drop else [str(named.name)] if named else []
        if f.kind == "DROP SCHEMA" and all((key, n.lower()) in self._created for n in names):
            return  # only schemas this file created: nothing of the running release
        if f.kind in ("DROP SCHEMA", "DROP DATABASE"):
            yield Hit(
                message=f"{f.kind} {', '.join(names)} destroys every table and row in it (ACCESS "
                "EXCLUSIVE on each): the "
                "running release's queries on them fail from the commit on."
            )
