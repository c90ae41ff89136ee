"""One pass over the migration graph: the exact SQL of every operation.

How it stays exact: every operation goes through Django's own ``database_forwards``
with the connection's schema editor in collect-sql mode (the SQL is what
``sqlmigrate`` would print), and each collected statement is also executed on a
disposable shadow database, so when a later operation makes Django introspect the
database (a constraint name to drop, say) it finds the real state.

How it stays fast (DESIGN.md, "Where the time goes"): the project state is advanced
*unrendered* (``state_forwards`` on plain ModelStates is cheap), and each operation
renders only the models it needs: the models it names, the models pointing at them
when it changes them, and *stubs* of the models they point to (primary key and plain
columns only, which is all a foreign key needs). Anything the subset cannot serve
falls back to rendering the whole state, so speed never costs correctness.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import operations as ops
from django.db.migrations.exceptions import InvalidBasesError
from django.db.migrations.migration import Migration as DjangoMigration
from django.db.migrations.operations.base import Operation as DjangoOperation
from django.db.migrations.state import ModelState, ProjectState
from django.db.models.fields.related import RECURSIVE_RELATIONSHIP_CONSTANT

from .field_facts import field_facts
from .model import Migration, Operation, Statement

logger = logging.getLogger("dbgov.render")

ModelKey = tuple[str, str]

# Operations that change what other models point at: Django's schema editor then also
# alters the incoming foreign keys, so the referring models must be rendered too.
_REFERRER_OPS = (ops.RenameModel, ops.AlterModelTable)
# Field operations need the referring models only for a field they may point at.
_REFERRER_FIELD_OPS = (ops.AlterField, ops.RenameField)
# Errors a too-small model subset can cause; the operation is retried on the full state.
_SUBSET_ERRORS = (
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


# -- model subsets -----------------------------------------------------------------


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


# -- recording schema editor ---------------------------------------------------------


def _recording_editor_class(connection: BaseDatabaseWrapper) -> type:
    base = connection.SchemaEditorClass

    class RecordingSchemaEditor(base):  # type: ignore[misc, valid-type]
        """Collect-sql mode that also runs each statement on the shadow database."""

        def execute(self, sql: Any, params: Any = ()) -> None:
            before = len(self.collected_sql)
            super().execute(sql, params)
            with self.connection.cursor() as cursor:
                for statement in self.collected_sql[before:]:
                    cursor.execute(statement)

    return RecordingSchemaEditor


# -- migration files -------------------------------------------------------------------


@dataclass
class SourceInfo:
    path: str | None = None
    sha256: str | None = None
    operation_lines: list[int] = field(default_factory=list)


def relative_path(path: Path) -> str:
    base = Path(getattr(settings, "BASE_DIR", Path.cwd()))
    try:
        return str(path.resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)


def source_info(migration: DjangoMigration) -> SourceInfo:
    """Path, content hash and operation line numbers of a migration's file."""
    module = inspect.getmodule(type(migration))
    filename = getattr(module, "__file__", None)
    if not filename:
        return SourceInfo()
    path = Path(filename)
    data = path.read_bytes()
    lines: list[int] = []
    with contextlib.suppress(SyntaxError):
        for node in ast.walk(ast.parse(data)):
            if isinstance(node, ast.ClassDef) and node.name == "Migration":
                for stmt in node.body:
                    value: ast.expr | None
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                        target, value = stmt.targets[0], stmt.value
                    elif isinstance(stmt, ast.AnnAssign):
                        target, value = stmt.target, stmt.value
                    else:
                        continue
                    if (
                        isinstance(target, ast.Name)
                        and target.id == "operations"
                        and isinstance(value, ast.List | ast.Tuple)
                    ):
                        lines = [elt.lineno for elt in value.elts]
    return SourceInfo(relative_path(path), hashlib.sha256(data).hexdigest(), lines)


def describe_migration(migration: DjangoMigration, *, selected: bool, applied: bool) -> Migration:
    info = source_info(migration)
    task = getattr(migration, "dbgov_task", None)
    ignores = getattr(migration, "dbgov_ignore", None) or {}
    return Migration(
        app_label=migration.app_label,
        name=migration.name,
        path=info.path,
        task=str(task) if task else None,
        atomic=bool(migration.atomic),
        replaces=[tuple(r) for r in (migration.replaces or [])],  # type: ignore[misc]
        sha256=info.sha256,
        selected=selected,
        applied=applied,
        ignores={int(i): dict(rules) for i, rules in ignores.items()},
        index_purpose=dict(getattr(migration, "dbgov_index_purpose", None) or {}),
        operations=[
            Operation(
                index=i,
                type=type(op).__name__,
                description=_describe(op),
                renders_sql=op.reduces_to_sql,
                reversible=op.reversible,
                line=info.operation_lines[i] if i < len(info.operation_lines) else None,
            )
            for i, op in enumerate(migration.operations)
        ],
    )


def _describe(op: DjangoOperation) -> str:
    try:
        return str(op.describe())
    except Exception:  # a third-party operation with a broken describe()
        return type(op).__name__


# -- the renderer ------------------------------------------------------------------------


@dataclass
class RenderStats:
    operations: int = 0
    subset_renders: int = 0
    full_renders: int = 0
    statements: int = 0
    seconds: float = 0.0


class Renderer:
    """Advances one ProjectState through migrations, rendering SQL on a shadow database.

    Use as a context manager: while active, ``connections[alias]`` *is* the shadow
    connection, so everything Django does for the alias (routers, ``atomic``,
    introspection) happens on the shadow, never on the target.
    """

    def __init__(self, alias: str, shadow: BaseDatabaseWrapper, real_apps: set[str]) -> None:
        self.alias = alias
        self.shadow = shadow
        self.state = ProjectState(real_apps=set(real_apps))
        self.editor_class = _recording_editor_class(shadow)
        self.stats = RenderStats()
        self._saved: BaseDatabaseWrapper | None = None
        self._savepoints = True

    def __enter__(self) -> Renderer:
        self._saved = connections[self.alias]
        connections[self.alias] = self.shadow
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._saved is not None
        connections[self.alias] = self._saved

    # A migration --------------------------------------------------------------------
    def apply(self, migration: DjangoMigration, report: Migration | None) -> None:
        """Apply ``migration`` to the state and the shadow, filling ``report`` if given.

        An atomic migration first runs without per-operation savepoints (two round
        trips per operation saved); if anything fails it is rolled back and replayed
        with savepoints, so that one failing operation does not hide the others.
        """
        started = time.perf_counter()
        state_before = self.state
        self._savepoints = not migration.atomic
        try:
            self._apply(migration, report)
        except _Replay:
            self.state = state_before
            if report is not None:
                for entry in report.operations:
                    entry.statements, entry.error, entry.details = [], None, {}
            self._savepoints = True
            self._apply(migration, report)
        self.stats.seconds += time.perf_counter() - started

    def _apply(self, migration: DjangoMigration, report: Migration | None) -> None:
        owners: dict[int, Operation | None] = {}
        with self.editor_class(self.shadow, collect_sql=True, atomic=migration.atomic) as editor:
            for index, op in enumerate(migration.operations):
                entry = report.operations[index] if report else None
                self._apply_operation(migration, op, editor, entry, owners)
            # Flush deferred SQL ourselves (as __exit__ would) to attribute each
            # statement to the operation that produced it.
            deferred, editor.deferred_sql = list(editor.deferred_sql), []
            for statement in deferred:
                owner = owners.get(id(statement))
                before = len(editor.collected_sql)
                error = self._guarded(lambda s=statement: editor.execute(s))
                if owner is not None:
                    for sql in editor.collected_sql[before:]:
                        owner.statements.append(Statement(sql=sql, deferred=True))
                    if error and not owner.error:
                        owner.error = f"deferred SQL failed: {error}"

    def _apply_operation(
        self,
        migration: DjangoMigration,
        op: DjangoOperation,
        editor: Any,
        entry: Operation | None,
        owners: dict[int, Operation | None],
    ) -> None:
        self.stats.operations += 1
        app_label = migration.app_label
        pre = self.state
        post = pre.clone()
        op.state_forwards(app_label, post)
        self.state = post
        if not op.reduces_to_sql:
            return  # RunPython: Python code, not SQL; dbgov never runs it
        if isinstance(op, ops.SeparateDatabaseAndState):
            # Its database operations run against their own state track (as Django does).
            track = pre
            for sub in op.database_operations:
                after = track.clone()
                sub.state_forwards(app_label, after)
                self._forwards(migration, sub, editor, track, after, entry, owners)
                track = after
            return
        self._forwards(migration, op, editor, pre, post, entry, owners)

    def _forwards(
        self,
        migration: DjangoMigration,
        op: DjangoOperation,
        editor: Any,
        pre: ProjectState,
        post: ProjectState,
        entry: Operation | None,
        owners: dict[int, Operation | None],
    ) -> None:
        app_label = migration.app_label
        roots = operation_roots(op, app_label, pre)
        deferred_before = {id(s) for s in editor.deferred_sql}
        collected_before = len(editor.collected_sql)
        atomic_op = op.atomic or (migration.atomic and op.atomic is not False)

        used: dict[str, ProjectState] = {}

        def run(from_state: ProjectState, to_state: ProjectState) -> None:
            used["from"], used["to"] = from_state, to_state
            if not editor.atomic_migration and atomic_op:
                with transaction.atomic(using=self.alias):
                    op.database_forwards(app_label, editor, from_state, to_state)
            else:
                op.database_forwards(app_label, editor, from_state, to_state)

        error: str | None = None
        if roots is None:
            self.stats.full_renders += 1
            error = self._guarded(lambda: run(pre.clone(), post.clone()))
        else:
            if roots:
                self.stats.subset_renders += 1
            sub_pre, sub_post = subset_state(pre, roots), subset_state(post, roots)
            error = self._guarded(lambda: run(sub_pre, sub_post), retry_on=_SUBSET_ERRORS)
            if error == _RETRY:
                # The subset was not enough for this operation: render everything.
                logger.debug("full render for %s.%s: %s", migration.app_label, migration.name, op)
                del editor.collected_sql[collected_before:]
                editor.deferred_sql = [s for s in editor.deferred_sql if id(s) in deferred_before]
                self.stats.full_renders += 1
                error = self._guarded(lambda: run(pre.clone(), post.clone()))
        new_sql = editor.collected_sql[collected_before:]
        self.stats.statements += len(new_sql)
        for s in editor.deferred_sql:
            if id(s) not in deferred_before:
                owners[id(s)] = entry
        if entry is not None:
            entry.statements.extend(Statement(sql=sql) for sql in new_sql)
            if error and not entry.error:
                entry.error = error
            if not error and isinstance(op, ops.AlterField | ops.AddField):
                entry.details.update(
                    field_facts(op, app_label, used["from"], used["to"], editor.connection)
                )

    def _guarded(self, fn: Any, retry_on: tuple[type[BaseException], ...] = ()) -> str | None:
        """Run ``fn``; return None, an error message, or _RETRY (see ``retry_on``)."""
        use_savepoint = self._savepoints and self.shadow.in_atomic_block
        sid = self.shadow.savepoint() if use_savepoint else None
        try:
            fn()
        except Exception as exc:
            if self.shadow.in_atomic_block and not use_savepoint:
                raise _Replay from exc  # the transaction is unusable: replay with savepoints
            if sid:
                self.shadow.savepoint_rollback(sid)
            if retry_on and isinstance(exc, retry_on):
                return _RETRY
            return f"{type(exc).__name__}: {exc}".strip()
        if sid:
            self.shadow.savepoint_commit(sid)
        return None


class _Replay(Exception):
    """Raised out of a migration run without savepoints when something failed."""


_RETRY = "\0retry"
