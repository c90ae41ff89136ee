"""`fk-on-delete-cascade`: A foreign key deletes rows in cascade: a reviewer must confirm it."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule, StatementContext
from ..helpers import new_constraints


@register
class CascadeDelete(Rule):
    id = "fk-on-delete-cascade"
    severity = Severity.CARE
    category = "conventions"
    scope = "sql"  # the SQL check also runs in `dbgov lint`
    summary = "A foreign key deletes rows in cascade: a reviewer must confirm it."
    why = (
        "on_delete=CASCADE (or ON DELETE CASCADE in SQL) deletes every referencing row when "
        "the referenced one goes: one delete can remove large amounts of data and hold "
        "row locks on several tables."
    )
    safe_alternative = (
        "Keep CASCADE only for rows that cannot exist alone (order items of an order) and "
        "say so in review; otherwise use PROTECT or SET_NULL, or soft-delete with deleted_at."
    )
    bad = """\
ALTER TABLE order_items ADD CONSTRAINT oi_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE NOT VALID;
"""
    good = """\
ALTER TABLE order_items ADD CONSTRAINT oi_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE RESTRICT NOT VALID;
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        op = ctx.django_operation
        if op is None:
            return
        fields: list[tuple[str, object]] = []
        if ctx.operation.type == "CreateModel":
            fields = list(getattr(op, "fields", []))
        elif ctx.operation.type == "AddField" or (
            ctx.operation.type == "AlterField"
            # only when the change introduces CASCADE (issue 10: an AlterField that keeps
            # an unchanged CASCADE is not a new decision to review)
            and ctx.operation.details.get("old_on_delete") != "CASCADE"
        ):
            fields = [(op.name, op.field)]
        model = (
            getattr(op, "name", None)
            if ctx.operation.type == "CreateModel"
            else getattr(op, "model_name", None)
        )
        for name, field in fields:
            remote = getattr(field, "remote_field", None)
            on_delete = getattr(remote, "on_delete", None)
            if on_delete is not None and getattr(on_delete, "__name__", "") == "CASCADE":
                target = remote.model if isinstance(remote.model, str) else remote.model._meta.label  # type: ignore[union-attr]
                yield Hit(
                    message=f"{ctx.migration.app_label}.{model}.{name} → {target} uses on_delete=CASCADE: "
                    f"deleting one {target} deletes all its {model} rows.",
                )

    def check_statement(self, ctx: StatementContext) -> Iterable[Hit]:
        # Django emulates CASCADE in Python and never writes ON DELETE: this is raw SQL.
        for constraint in new_constraints(ctx.facts):
            if constraint.on_delete == "CASCADE":
                yield Hit(
                    message=f"ON DELETE CASCADE from {ctx.facts.details.table} to "
                    f"{constraint.referenced_table}: deleting a referenced row deletes the referencing rows."
                )
