"""The models an operation needs rendered: its own, and key-only stand-ins around them.

Rendering every model of a large project for every operation is what makes
``sqlmigrate`` slow (DESIGN.md, "Where the time goes"). An operation only needs the
models it names, the models pointing at them when it changes what they point at, and,
for every foreign key among those, the table and key column of its target: a *stub*
with the primary key (and any ``to_field``) only. Anything the subset cannot serve makes
the renderer fall back to the whole state, so speed never costs correctness.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.migrations import operations as ops
from django.db.migrations.exceptions import InvalidBasesError
from django.db.migrations.operations.base import Operation as DjangoOperation
from django.db.migrations.state import ModelState, ProjectState
from django.db.models.fields.related import RECURSIVE_RELATIONSHIP_CONSTANT

__all__ = ["SUBSET_ERRORS", "ModelKey", "operation_roots", "subset_state"]

ModelKey = tuple[str, str]

# Operations that change what other models point at: Django's schema editor then also
# alters the incoming foreign keys, so the referring models must be rendered too.
_REFERRER_OPS = (ops.RenameModel, ops.AlterModelTable)
# Field operations need the referring models only for a field they may point at.
_REFERRER_FIELD_OPS = (ops.AlterField, ops.RenameField)
# Errors a too-small model subset can cause; the operation is retried on the full state.
SUBSET_ERRORS = (
    LookupError,
    FieldDoesNotExist,
    ValueError,
    InvalidBasesError,
    AttributeError,
    KeyError,
    TypeError,
)
# Options a stub does not need (and that may name fields the stub leaves out).
_STUB_DROPPED_OPTIONS = (
    "indexes",
    "constraints",
    "unique_together",
    "index_together",
    "order_with_respect_to",
)


def _key(model: Any, app_label: str) -> ModelKey | None:
    if model == RECURSIVE_RELATIONSHIP_CONSTANT:
        return None
    if isinstance(model, str):
        if "." in model:
            app, name = model.split(".", 1)
        else:
            app, name = app_label, model
        return (app, name.lower())
    meta = getattr(model, "_meta", None)
    if meta is None or getattr(meta, "abstract", False):
        return None
    return (meta.app_label, meta.model_name)


def _relation_targets(ms: ModelState, *, primary_key_only: bool = False) -> Iterator[ModelKey]:
    for f in ms.fields.values():
        if not f.is_relation or f.remote_field is None or (primary_key_only and not f.primary_key):
            continue
        key = _key(f.remote_field.model, ms.app_label)
        if key:
            yield key
        through = getattr(f.remote_field, "through", None)
        if through is not None and not primary_key_only:
            key = _key(through, ms.app_label)
            if key:
                yield key
    for base in ms.bases:
        if isinstance(base, str) or (isinstance(base, type) and hasattr(base, "_meta")):
            key = _key(base, ms.app_label)
            if key:
                yield key


def _stub(ms: ModelState, keep: set[str]) -> ModelState:
    """A model reduced to what a foreign key to it needs: its table and key columns.

    ``keep`` names the fields other models point at with ``to_field``.
    """
    fields = {n: f for n, f in ms.fields.items() if f.primary_key or n in keep}
    options = {k: v for k, v in ms.options.items() if k not in _STUB_DROPPED_OPTIONS}
    return ModelState(ms.app_label, ms.name, fields, options, ms.bases, ms.managers)


def _to_fields(ms: ModelState) -> Iterator[tuple[ModelKey, str]]:
    for f in ms.fields.values():
        to_field = getattr(getattr(f, "remote_field", None), "field_name", None)
        if f.is_relation and to_field and f.remote_field is not None:
            key = _key(f.remote_field.model, ms.app_label)
            if key:
                yield key, to_field


def subset_state(state: ProjectState, roots: Iterable[ModelKey]) -> ProjectState:
    """The part of ``state`` an operation on ``roots`` needs, with stubs around it."""
    models: dict[ModelKey, ModelState] = {}
    full = [k for k in dict.fromkeys(roots) if k in state.models]
    for k in full:
        models[k] = state.models[k].clone()
    # Explicit many-to-many "through" models are part of the relation: keep them whole.
    for k in list(full):
        for f in state.models[k].fields.values():
            through = getattr(getattr(f, "remote_field", None), "through", None)
            tkey = _key(through, k[0]) if through is not None else None
            if tkey and tkey in state.models and tkey not in models:
                models[tkey] = state.models[tkey].clone()
                full.append(tkey)
    keep: dict[ModelKey, set[str]] = {}
    for k in full:
        for target, to_field in _to_fields(state.models[k]):
            keep.setdefault(target, set()).add(to_field)
    queue = [t for k in full for t in _relation_targets(state.models[k])]
    while queue:
        target = queue.pop()
        if target in models or target not in state.models:
            continue
        models[target] = _stub(state.models[target], keep.get(target, set()))
        queue.extend(_relation_targets(models[target], primary_key_only=True))
    return ProjectState(models=models, real_apps=state.real_apps)


def _referrers(state: ProjectState, targets: set[ModelKey]) -> set[ModelKey]:
    found: set[ModelKey] = set()
    for key, ms in state.models.items():
        for f in ms.fields.values():
            if f.is_relation and _key(f.remote_field.model, ms.app_label) in targets:
                found.add(key)
                break
    return found


def operation_roots(
    op: DjangoOperation, app_label: str, state: ProjectState
) -> set[ModelKey] | None:
    """Models an operation needs rendered; an empty set for none, None for all."""
    if isinstance(op, ops.RunSQL):
        return set()
    roots: set[ModelKey] = set()
    if isinstance(op, ops.RenameModel):
        roots = {(app_label, op.old_name_lower), (app_label, op.new_name_lower)}
    elif isinstance(op, ops.base.Operation) and hasattr(op, "model_name_lower"):
        roots = {(app_label, op.model_name_lower)}
    elif isinstance(op, ops.models.ModelOperation):
        roots = {(app_label, op.name_lower)}
    else:
        return None
    if isinstance(op, _REFERRER_OPS):
        roots |= _referrers(state, roots)
    elif isinstance(op, _REFERRER_FIELD_OPS):
        model_state = state.models.get((app_label, op.model_name_lower))
        field_name = op.old_name if isinstance(op, ops.RenameField) else op.name
        current = model_state.fields.get(field_name) if model_state else None
        if (
            current is None
            or current.primary_key
            or current.unique
            or _is_to_field(state, roots, field_name)
        ):
            roots |= _referrers(state, roots)
    return roots


def _is_to_field(state: ProjectState, targets: set[ModelKey], field_name: str) -> bool:
    return any(
        key in targets and to_field == field_name
        for ms in state.models.values()
        for key, to_field in _to_fields(ms)
    )
