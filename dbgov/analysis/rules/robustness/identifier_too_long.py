"""`identifier-too-long`: An identifier is longer than 63 bytes: PostgreSQL silently truncates it."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, Rule, StatementContext
from ..helpers import long_identifiers


@register
class IdentifierTooLong(Rule):
    id = "identifier-too-long"
    severity = Severity.WARNING
    category = "robustness"
    scope = "sql"
    summary = "An identifier is longer than 63 bytes: PostgreSQL silently truncates it."
    why = (
        "NAMEDATALEN is 64: longer names are cut to 63 bytes, so the object gets a name the "
        "code (and later migrations that drop or rename it) does not use, and two long "
        "names can collide."
    )
    safe_alternative = (
        "Give the table, column, index or constraint an explicit name of at most 63 bytes."
    )
    bad = """\
CREATE INDEX CONCURRENTLY orders_customer_id_created_at_status_currency_shipping_country_idx ON orders (customer_id, created_at, status, currency, shipping_country);
"""
    good = """\
CREATE INDEX CONCURRENTLY orders_customer_created_idx ON orders (customer_id, created_at);
"""

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        # The parser has already truncated the names in the facts: read the tokens.
        for name in long_identifiers(ctx.facts.sql):
            size = len(name.encode("utf-8"))
            yield Hit(
                message=f"{name!r} is {size} bytes: PostgreSQL silently truncates it to 63 "
                "bytes, so the object gets a name other than the one written (two such names "
                "can collide)."
            )
