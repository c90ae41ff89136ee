"""`pii-column-unflagged`: A column that looks like personal data has no PII flag in its comment."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...details import CommentDetail
from ...model import Severity
from .. import register
from ..base import Hit, MigrationContext, Rule
from ..helpers import added_columns, target
from .common import bare_table, setting

# Column names that look like personal data (override with DBGOV["PII_NAME_PATTERN"]).
PII_NAME_PATTERN = (
    r"(^|_)(e_?mail|email_address|phone|phone_number|mobile|telephone|tel|fax|"
    r"first_name|last_name|full_name|middle_name|surname|given_name|family_name|maiden_name|"
    r"address|street|street_address|address_line\d?|postal_code|postcode|zip|zip_code|"
    r"birth_?date|date_of_birth|dob|birthday|ssn|social_security_number|national_id|"
    r"passport|passport_number|tax_id|vat_number|iban|card_number|ip|ip_address|"
    r"remote_addr|gender|nationality|geolocation|latitude|longitude)($|_)"
)


# The marker a db_comment must contain to flag a column as personal data.
PII_MARKER = "PII"


@register
class PiiColumnWithoutFlag(Rule):
    id = "pii-column-unflagged"
    severity = Severity.WARNING  # a convention: advice that never blocks
    category = "conventions"
    scope = "sql"
    summary = "A column that looks like personal data has no PII flag in its comment."
    why = (
        "Personal data must be findable (GDPR requests, masking of staging copies, "
        "access reviews): dbgov and the DBA rely on the `PII` marker in the column comment."
    )
    safe_alternative = (
        'Declare it on the field: `models.EmailField(db_comment="PII: contact email")` '
        "(Django emits COMMENT ON COLUMN), or RunSQL `COMMENT ON COLUMN t.c IS 'PII: …'`."
    )
    bad = """\
ALTER TABLE "shop_orders" ADD COLUMN "billing_email" varchar(254) NULL;
"""
    good = """\
ALTER TABLE "shop_orders" ADD COLUMN "billing_email" varchar(254) NULL;
COMMENT ON COLUMN "shop_orders"."billing_email" IS 'PII: billing contact';
"""

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        pattern = re.compile(setting(ctx, "PII_NAME_PATTERN", PII_NAME_PATTERN), re.I)
        marker = str(setting(ctx, "PII_MARKER", PII_MARKER)).lower()
        flagged: set[tuple[str, str]] = set()
        candidates: list[tuple[str, str, int]] = []
        for operation in ctx.migration.operations:
            for statement in operation.statements:
                f = statement.facts
                if f is None:
                    continue
                comment = f.detail(CommentDetail)
                if comment is not None and comment.object_type == "COLUMN":
                    if marker in str(comment.comment or "").lower():
                        flagged.add((bare_table(comment.table), str(comment.column)))
                    continue
                for col in added_columns(f):
                    name = str(col.name or "")
                    if pattern.search(name):
                        candidates.append((bare_table(target(f)), name, operation.index))
        for table, column, _index in candidates:
            if (table, column) not in flagged:
                yield Hit(
                    message=f"{table}.{column} looks like personal data but has no {marker.upper()} comment.",
                    table=table,
                )
