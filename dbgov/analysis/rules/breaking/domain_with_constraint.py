"""`domain-with-constraint`: Domain constraints are checked on every column of the type, under locks you cannot see."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import AlterDomainDetail, CreateDomainDetail
from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext


@register
class CreateDomainWithConstraint(Rule):
    kinds = frozenset({"CREATE DOMAIN", "ALTER DOMAIN"})
    id = "domain-with-constraint"
    severity = Severity.CARE
    category = "breaking"
    scope = "sql"
    summary = (
        "Domain constraints are checked on every column of the type, under locks you cannot see."
    )
    why = (
        "ALTER DOMAIN … ADD CONSTRAINT scans every table with a column of the domain "
        "(locking them), and a domain's CHECK silently applies to every future column; "
        "changing it later is the same full scan."
    )
    safe_alternative = (
        "Put CHECK constraints on the table columns instead (AddConstraint, NOT VALID + "
        "VALIDATE); keep domains without constraints."
    )
    bad = """\
CREATE DOMAIN positive_amount AS numeric CHECK (VALUE >= 0);
"""
    good = """\
CREATE DOMAIN amount AS numeric;
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        f = ctx.facts
        created = f.detail(CreateDomainDetail)
        if created and created.has_check:
            yield Hit(
                message=f"CREATE DOMAIN {created.domain} has a CHECK constraint: "
                "changing it later scans every table using the domain, under locks the "
                "running release waits for."
            )
        altered = f.detail(AlterDomainDetail)
        if altered and "ADD CONSTRAINT" in f.actions:
            yield Hit(
                message=f"ALTER DOMAIN {altered.domain} ADD CONSTRAINT checks every "
                "column using it, locking their tables while the running release waits.",
                scans=altered.checks_all_columns,
            )
