"""`rename-object`: A view, sequence, type, domain, function or schema (or an enum value) is renamed."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import EnumDetail, RenameDetail
from ...model import LockLevel, Severity
from .. import register
from ..base import Hit, Rule, StatementContext

# ALTER … RENAME of the objects the `rename` rule (tables and columns) does not cover
_RENAMES = frozenset(
    {
        "RENAME VIEW",
        "RENAME MATERIALIZED VIEW",
        "RENAME FOREIGN TABLE",
        "RENAME SEQUENCE",
        "RENAME",  # type, domain, function, procedure, schema …
        "RENAME ATTRIBUTE",
        "RENAME VALUE",
        "RENAME COLUMN",  # of a view / materialized view / composite type
    }
)


@register
class RenameObject(Rule):
    kinds = frozenset(
        {
            "ALTER VIEW",
            "ALTER MATERIALIZED VIEW",
            "ALTER FOREIGN TABLE",
            "ALTER SEQUENCE",
            "ALTER TYPE",
            "ALTER DOMAIN",
            "ALTER FUNCTION",
            "ALTER PROCEDURE",
            "ALTER SCHEMA",
        }
    )
    needs_actions = _RENAMES
    id = "rename-object"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    summary = "A view, sequence, type, domain, function or schema (or an enum value) is renamed."
    why = (
        "The release still running during the deploy names the object (or writes the enum "
        "label) by its old name: its queries fail from the moment the rename commits."
    )
    safe_alternative = (
        "Create the object under the new name beside the old one (for a view: a second "
        "view; for a function: a wrapper), switch the code, drop the old name in a later "
        "release."
    )
    bad = """\
ALTER VIEW "order_totals" RENAME TO "order_sums";
"""
    good = """\
-- Near miss: the view is created in this file, so no running code names it yet.
CREATE VIEW "order_totals" AS SELECT "customer_id", sum("total") AS "total" FROM "orders" GROUP BY "customer_id";
ALTER VIEW "order_totals" RENAME TO "order_sums";
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        enum = f.detail(EnumDetail)
        if enum is not None and "RENAME VALUE" in f.actions:
            yield Hit(
                message=f"Enum {enum.type} value {enum.old_value!r} becomes {enum.value!r}: the "
                f"running release's writes of {enum.old_value!r} fail."
            )
            return
        d = f.detail(RenameDetail)
        if d is None or not _RENAMES.intersection(f.actions):
            return
        if ctx.is_new(d.table):
            return  # a view created in this plan / file: no running code names it yet
        what = f.kind.removeprefix("ALTER ").lower()
        old = d.old_name or d.table
        if "RENAME COLUMN" in f.actions or "RENAME ATTRIBUTE" in f.actions:
            subject = f"column {old!r} of {what} {d.table}"
        else:
            subject = f"{what} {old}"
        lock = " under ACCESS EXCLUSIVE" if f.lock is LockLevel.ACCESS_EXCLUSIVE else ""
        yield Hit(
            message=f"Renaming {subject} to {d.new_name!r}{lock} breaks the running "
            "release's SQL that uses the old name."
        )
