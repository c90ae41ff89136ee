"""`foreign-key-without-index`: A foreign key has no index starting with its columns."""

from __future__ import annotations

from collections.abc import Iterable

from ...details import IndexDetail
from ...model import Severity
from .. import register
from ..base import Hit, MigrationContext, Rule
from ..helpers import added_columns, new_constraints, target
from .common import bare_table


@register
class ForeignKeyWithoutIndex(Rule):
    id = "foreign-key-without-index"
    severity = Severity.WARNING
    category = "conventions"
    scope = "sql"
    summary = "A foreign key has no index starting with its columns."
    why = (
        "Deleting or updating a referenced row scans the referencing table without one "
        "(under the FK's row locks), and joins on the key are slow."
    )
    safe_alternative = (
        "Keep Django's default `db_index=True` on ForeignKey, or add an index whose first "
        "columns are the key (AddIndexConcurrently on an existing table)."
    )
    bad = """\
ALTER TABLE "order_items" ADD COLUMN "coupon_id" bigint NULL;
ALTER TABLE "order_items" ADD CONSTRAINT "oi_coupon_fk" FOREIGN KEY ("coupon_id") REFERENCES "coupons" ("id") NOT VALID;
"""
    good = """\
ALTER TABLE "order_items" ADD COLUMN "coupon_id" bigint NULL;
ALTER TABLE "order_items" ADD CONSTRAINT "oi_coupon_fk" FOREIGN KEY ("coupon_id") REFERENCES "coupons" ("id") NOT VALID;
CREATE INDEX CONCURRENTLY "oi_coupon_idx" ON "order_items" ("coupon_id");
"""

    def check_migration(self, ctx: MigrationContext) -> Iterable[Hit]:
        indexed: set[tuple[str, tuple[str, ...]]] = set()
        fks: list[tuple[str, tuple[str, ...], str | None]] = []
        # Only keys on columns created here: an older column may be indexed already.
        created: set[tuple[str, str]] = set()
        for operation in ctx.migration.operations:
            for statement in operation.statements:
                f = statement.facts
                if f is None:
                    continue
                table = bare_table(target(f))
                created.update((table, str(c.name)) for c in added_columns(f))
                index = f.detail(IndexDetail)
                if index is not None:
                    indexed.add((table, index.columns))
                for con in new_constraints(f):
                    cols = tuple(c for c in con.columns if c)
                    if con.type in ("PRIMARY KEY", "UNIQUE"):
                        indexed.add((table, cols))
                    elif con.type == "FOREIGN KEY":
                        fks.append((table, cols, con.referenced_table))
        # indexes anywhere in the plan count (the demo's T-021 adds its index next)
        for table, cols, ref in fks:
            candidates = [idx for t, idx in indexed if t == table]
            candidates.extend(ctx.plan.indexed_columns.get(table, ()))
            covered = any(idx[: len(cols)] == cols for idx in candidates)
            if cols and not covered and all((table, c) in created for c in cols):
                yield Hit(
                    message=f"Foreign key {table}({', '.join(cols)}) → {ref} has no index.",
                    table=table,
                )
