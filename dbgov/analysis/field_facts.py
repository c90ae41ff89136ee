"""Column facts of an AddField / AlterField that the SQL alone does not carry.

Django knows what the SQL does not: the column's type before an AlterField (so the SQL
facts can tell a binary-coercible change from a rewrite), whether the field is a
relation and its ``on_delete`` before and after (so ``fk-on-delete-cascade`` fires when
CASCADE is introduced, not on every AlterField that keeps it).
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import operations as ops
from django.db.migrations.exceptions import InvalidBasesError
from django.db.migrations.state import ProjectState
from django.db.models import NOT_PROVIDED

__all__ = ["field_facts"]

_LOOKUP_ERRORS = (
    LookupError,
    FieldDoesNotExist,
    ValueError,
    InvalidBasesError,
    AttributeError,
    KeyError,
    TypeError,
)


def _on_delete(field: Any) -> str | None:
    return getattr(getattr(field.remote_field, "on_delete", None), "__name__", None)


def field_facts(
    op: Any,
    app_label: str,
    from_state: ProjectState,
    to_state: ProjectState,
    connection: BaseDatabaseWrapper,
) -> dict[str, Any]:
    """The facts of the field an AddField / AlterField adds or changes ({} if unknown)."""
    details: dict[str, Any] = {}
    with contextlib.suppress(*_LOOKUP_ERRORS):
        new = to_state.apps.get_model(app_label, op.model_name)._meta.get_field(op.name)
        details.update(
            new_type=new.db_type(connection),
            null=new.null,
            unique=bool(new.unique and not new.primary_key),
            db_index=bool(new.db_index),
            is_relation=new.is_relation,
            on_delete=_on_delete(new) if new.is_relation else None,
            has_default=new.has_default() or new.db_default is not NOT_PROVIDED,
            db_comment=new.db_comment,
            column=new.column,
        )
        if isinstance(op, ops.AlterField):
            old = from_state.apps.get_model(app_label, op.model_name)._meta.get_field(op.name)
            details.update(
                old_type=old.db_type(connection),
                old_null=old.null,
                old_unique=bool(old.unique and not old.primary_key),
                old_on_delete=_on_delete(old) if old.is_relation else None,
            )
    return details
