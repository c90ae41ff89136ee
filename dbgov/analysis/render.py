"""The exact SQL of every operation, rendered in the sandbox in the order ``migrate`` runs it.

How it stays exact: every operation goes through Django's own ``database_forwards``
with the schema editor in collect-sql mode (the SQL is what ``sqlmigrate`` prints), and
each collected statement is also executed on the sandbox's run database, so when a
later operation makes Django introspect the database (a constraint name to drop, say) it
finds the real state. Deferred SQL runs at the end of the migration, as in ``migrate``;
every statement records its position in that order.

How it stays fast (DESIGN.md, "Where the time goes"): the project state is advanced
*unrendered*, each operation renders only the models it needs (subsets.py), and an
atomic migration runs without savepoints. When something fails, the migration is rolled
back and replayed with a savepoint per statement, so that a statement the sandbox
refuses is recorded and every statement after it is still rendered.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import operations as ops
from django.db.migrations.migration import Migration as DjangoMigration
from django.db.migrations.operations.base import Operation as DjangoOperation
from django.db.migrations.state import ProjectState

from .field_facts import field_facts
from .model import Migration, Operation, Statement
from .subsets import SUBSET_ERRORS, ModelKey, operation_roots, subset_state

__all__ = ["RenderStats", "Renderer"]

logger = logging.getLogger("dbgov.render")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class _Replay(Exception):
    """Something failed in a migration run without savepoints: replay it with them."""


class _SubsetTooSmall(Exception):
    """The model subset could not serve the operation; ``error`` says why."""


def _recording_editor_class(connection: BaseDatabaseWrapper) -> type:
    base = connection.SchemaEditorClass

    class RecordingSchemaEditor(base):  # type: ignore[misc, valid-type]
        """Collect-sql mode that also runs each statement in the sandbox.

        ``failures`` maps the index of a collected statement to the sandbox's error.
        Without ``savepoints`` (the fast path) a failure inside a transaction raises
        ``_Replay``; with them each statement runs under its own savepoint and a failure
        is recorded, rolled back and passed over.
        """

        savepoints = False
        executed = 0

        def execute(self, sql: Any, params: Any = ()) -> None:
            before = len(self.collected_sql)
            super().execute(sql, params)
            conn = self.connection
            for index in range(before, len(self.collected_sql)):
                statement = self.collected_sql[index]
                in_tx = conn.in_atomic_block
                sid = conn.savepoint() if self.savepoints and in_tx else None
                try:
                    with conn.cursor() as cursor:
                        cursor.execute(statement)
                except Exception as exc:
                    if in_tx and sid is None:
                        raise _Replay from exc
                    if sid is not None:
                        conn.savepoint_rollback(sid)
                    self.failures[index] = _short(exc)
                    continue
                self.executed += 1
                if sid is not None:
                    conn.savepoint_commit(sid)

    return RecordingSchemaEditor


@dataclass
class RenderStats:
    migrations: int = 0
    replayed_from_cache: int = 0
    operations: int = 0
    subset_renders: int = 0
    full_renders: int = 0
    statements: int = 0
    savepoint_replays: int = 0
    subsets_reused: int = 0
    seconds: float = 0.0


class Renderer:
    """Advances one ProjectState through migrations, rendering SQL in the sandbox.

    Use as a context manager: while active, ``connections[alias]`` *is* the sandbox
    connection, so everything Django does for the alias (routers, ``atomic``,
    introspection) happens in the sandbox, never on the target.
    """

    def __init__(self, alias: str, sandbox: BaseDatabaseWrapper, state: ProjectState) -> None:
        self.alias = alias
        self.sandbox = sandbox
        self.state = state
        self.editor_class = _recording_editor_class(sandbox)
        self.stats = RenderStats()
        self._saved: BaseDatabaseWrapper | None = None
        self._savepoints = False
        self._position = 0
        # (state, roots, subset of that state) the last operation rendered as its after-state:
        # the next operation on the same models starts from it instead of rendering it again
        self._last_subset: tuple[ProjectState, frozenset[ModelKey], ProjectState] | None = None

    def __enter__(self) -> Renderer:
        self._saved = connections[self.alias]
        connections[self.alias] = self.sandbox
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._saved is not None
        connections[self.alias] = self._saved

    # Migrations whose SQL is known (from the cache) ------------------------------------
    def advance(self, migration: DjangoMigration) -> None:
        """Advance the state through ``migration`` without touching the sandbox."""
        state = self.state.clone()
        for op in migration.operations:
            op.state_forwards(migration.app_label, state)
        self.state = state

    def replay(self, migration: DjangoMigration, report: Migration) -> None:
        """Advance through a migration whose SQL ``report`` holds, running it in the sandbox.

        Statements the sandbox refused when they were rendered are skipped again (they
        left no trace then either).
        """
        started = time.perf_counter()
        self.advance(migration)
        statements = [s for _, s in report.statements_in_order() if not s.failed]
        if statements:
            atomic = migration.atomic
            with contextlib.ExitStack() as stack:
                if atomic:
                    stack.enter_context(transaction.atomic(using=self.alias))
                with self.sandbox.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement.sql)
        self.stats.replayed_from_cache += 1
        self.stats.seconds += time.perf_counter() - started

    # Rendering ---------------------------------------------------------------------------
    def apply(self, migration: DjangoMigration, report: Migration) -> None:
        """Render ``migration`` into ``report`` and apply it to the state and the sandbox.

        An atomic migration first runs without savepoints (two round trips per statement
        saved); if anything fails it is rolled back and replayed with a savepoint per
        statement, so that one failure hides nothing after it.
        """
        started = time.perf_counter()
        self.stats.migrations += 1
        state_before = self.state
        # A non-atomic migration commits as it goes: nothing to roll back and replay, so
        # its statements run under savepoints from the start.
        self._savepoints = not migration.atomic
        try:
            self._apply(migration, report)
        except _Replay:
            self.stats.savepoint_replays += 1
            self.state = state_before
            for entry in report.operations:
                entry.statements, entry.error, entry.details = [], None, {}
            self._savepoints = True
            self._apply(migration, report)
        self.stats.seconds += time.perf_counter() - started

    def _apply(self, migration: DjangoMigration, report: Migration) -> None:
        self._position = 0
        owners: dict[int, Operation] = {}
        with self.editor_class(self.sandbox, collect_sql=True, atomic=migration.atomic) as editor:
            editor.savepoints = self._savepoints
            editor.failures = {}
            for index, op in enumerate(migration.operations):
                self._apply_operation(migration, op, editor, report.operations[index], owners)
            # Flush deferred SQL here (as the editor's __exit__ would, and in the same
            # order) to attribute each statement to the operation that deferred it.
            deferred, editor.deferred_sql = list(editor.deferred_sql), []
            for statement in deferred:
                owner = owners.get(id(statement))
                before = len(editor.collected_sql)
                error = self._guarded(lambda s=statement: editor.execute(str(s)))
                self._record(editor, before, owner, deferred=True)
                if owner is not None and error and not owner.error:
                    owner.error = f"deferred SQL failed: {error}"

    def _record(self, editor: Any, before: int, entry: Operation | None, *, deferred: bool) -> None:
        for index in range(before, len(editor.collected_sql)):
            failed = editor.failures.get(index)
            statement = Statement(
                sql=editor.collected_sql[index],
                deferred=deferred,
                position=self._position,
                failed=failed,
            )
            self._position += 1
            self.stats.statements += 1
            if entry is not None:
                entry.statements.append(statement)
                if failed and not entry.error:
                    entry.error = f"the sandbox refused statement {len(entry.statements)}: {failed}"

    def _apply_operation(
        self,
        migration: DjangoMigration,
        op: DjangoOperation,
        editor: Any,
        entry: Operation,
        owners: dict[int, Operation],
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
        entry: Operation,
        owners: dict[int, Operation],
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
            key = frozenset(roots)
            last = self._last_subset
            if last is not None and last[0] is pre and last[1] == key:
                # subset_state(pre, roots) again, with its model classes already rendered
                sub_pre = last[2]
                self.stats.subsets_reused += 1
            else:
                sub_pre = subset_state(pre, roots)
            sub_post = subset_state(post, roots)
            self._last_subset = None
            try:
                error = self._guarded(lambda: run(sub_pre, sub_post), subset=True)
                if error is None:
                    self._last_subset = (post, key, sub_post)
            except _SubsetTooSmall:
                # The subset was not enough for this operation: render everything.
                logger.debug("full render for %s.%s: %s", migration.app_label, migration.name, op)
                del editor.collected_sql[collected_before:]
                for index in [i for i in editor.failures if i >= collected_before]:
                    del editor.failures[index]
                editor.deferred_sql = [s for s in editor.deferred_sql if id(s) in deferred_before]
                self.stats.full_renders += 1
                error = self._guarded(lambda: run(pre.clone(), post.clone()))
        self._record(editor, collected_before, entry, deferred=False)
        for s in editor.deferred_sql:
            if id(s) not in deferred_before:
                owners[id(s)] = entry
        if error and not entry.error:
            entry.error = error
        if not error and isinstance(op, ops.AlterField | ops.AddField):
            entry.details.update(
                field_facts(op, app_label, used["from"], used["to"], editor.connection)
            )

    def _guarded(self, fn: Any, *, subset: bool = False) -> str | None:
        """Run ``fn``; return None or the error message of a Python-side failure.

        A subset failure raises ``_SubsetTooSmall`` when it is safe to retry: nothing
        ran in the sandbox yet, or a savepoint undoes what did.
        """
        in_tx = self.sandbox.in_atomic_block
        sid = self.sandbox.savepoint() if subset and self._savepoints and in_tx else None
        try:
            fn()
        except _Replay:
            raise
        except Exception as exc:
            if subset and isinstance(exc, SUBSET_ERRORS):
                if sid is not None:
                    self.sandbox.savepoint_rollback(sid)
                    raise _SubsetTooSmall from exc
                if in_tx:
                    # Statements may have run without a savepoint to undo them.
                    raise _Replay from exc
                raise _SubsetTooSmall from exc
            if sid is not None:
                self.sandbox.savepoint_commit(sid)
            if in_tx and not self._savepoints and self.sandbox.needs_rollback:
                raise _Replay from exc
            return _short(exc)
        if sid is not None:
            self.sandbox.savepoint_commit(sid)
        return None
