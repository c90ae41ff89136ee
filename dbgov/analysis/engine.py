"""``build_plan``: pending migrations in, a Plan (SQL, facts, findings) out.

The only reads on the target database are Django's own: the list of applied
migrations (``SELECT`` on django_migrations, ACCESS SHARE on that table alone) and the
server version. All SQL is rendered on a disposable shadow database (shadow.py).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import django
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.exceptions import (
    BadMigrationError,
    CircularDependencyError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
)
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration as DjangoMigration
from django.db.utils import DatabaseError, OperationalError

from .errors import AnalysisError
from .model import Migration, Plan
from .render import Renderer, describe_migration, relative_path
from .shadow import shadow_database

logger = logging.getLogger("dbgov.engine")

Progress = Callable[[str], None]


def _no_progress(message: str) -> None:
    pass


def _migration_file_of(exc: BaseException) -> str | None:
    """The innermost project file in an exception's traceback (or a SyntaxError's file)."""
    filename = getattr(exc, "filename", None)
    if isinstance(exc, SyntaxError) and filename:
        return f"{relative_path(Path(filename))}, line {exc.lineno}"
    django_dir = Path(django.__file__).resolve().parent
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if (
            django_dir not in path.parents
            and "importlib" not in path.parts
            and path.suffix == ".py"
        ):
            return f"{relative_path(path)}, line {frame.lineno}"
    return None


def load_graph(connection: Any | None) -> MigrationLoader:
    """Django's MigrationLoader, with bad input turned into one clear AnalysisError."""
    alias = connection.alias if connection is not None else None
    try:
        loader = MigrationLoader(connection, ignore_no_migrations=True)
    except OperationalError as exc:
        raise AnalysisError(f"database {alias!r} does not answer: {str(exc).strip()}") from exc
    except NodeNotFoundError as exc:
        raise AnalysisError(f"migration graph: {exc.message}") from exc
    except CircularDependencyError as exc:
        raise AnalysisError(f"migration graph has a dependency cycle: {exc}") from exc
    except BadMigrationError as exc:
        raise AnalysisError(str(exc)) from exc
    except Exception as exc:
        where = _migration_file_of(exc) or "a migration module"
        raise AnalysisError(
            f"cannot import {where}: {type(exc).__name__}: {exc}".rstrip(": ")
        ) from exc
    conflicts = loader.detect_conflicts()
    if conflicts:
        details = "; ".join(
            f"app {app!r} has {len(names)} leaf migrations: {', '.join(sorted(names))}"
            for app, names in sorted(conflicts.items())
        )
        raise AnalysisError(
            f"conflicting migrations ({details}); merge them with `manage.py makemigrations --merge`"
        )
    if connection is not None:
        try:
            loader.check_consistent_history(connection)
        except InconsistentMigrationHistory as exc:
            raise AnalysisError(f"inconsistent migration history on {alias!r}: {exc}") from exc
    return loader


def _parse_targets(
    loader: MigrationLoader, targets: Sequence[tuple[str, str | None]]
) -> list[tuple[str, str]]:
    nodes: list[tuple[str, str]] = []
    leaves = loader.graph.leaf_nodes()
    for app_label, name in targets:
        if app_label not in loader.migrated_apps:
            raise AnalysisError(f"app {app_label!r} has no migrations (or is not installed)")
        if name is None:
            nodes.extend(n for n in leaves if n[0] == app_label)
            continue
        try:
            migration = loader.get_migration_by_prefix(app_label, name)
        except (KeyError, Exception) as exc:
            raise AnalysisError(f"cannot find migration {app_label} {name}: {exc}") from exc
        nodes.append((app_label, migration.name))
    return nodes


def registered_query_patterns() -> frozenset[str] | None:
    """The names ``DBGOV["QUERY_PATTERN_NAMES"]`` returns (a pluggable registry)."""
    from django.utils.module_loading import import_string

    from ..conf import dbgov_settings

    path = dbgov_settings.QUERY_PATTERN_NAMES
    if not path:
        return None
    try:
        return frozenset(import_string(path)())
    except ImportError as exc:
        raise AnalysisError(
            f"DBGOV['QUERY_PATTERN_NAMES'] = {path!r} cannot be imported: {exc}"
        ) from exc


def build_plan(
    *,
    database: str = DEFAULT_DB_ALIAS,
    selection: str = "pending",
    targets: Sequence[tuple[str, str | None]] | None = None,
    task: str | None = None,
    progress: Progress = _no_progress,
    run_rules: bool = True,
    single_deploy: bool = False,
) -> Plan:
    """Analyse migrations of ``database``.

    selection: "pending" (default: what `migrate` would apply), "all" (the whole
    history, rendered from an empty database), "targets" (like `migrate app [name]`),
    or "task" (the pending migrations whose file names ``task``).

    single_deploy: treat every table created in the plan as new for all of it (by
    default a table is new only for the task that creates it; see facts.py).
    """
    started = time.perf_counter()
    if database not in connections:
        raise AnalysisError(f"unknown database alias {database!r}")
    connection = connections[database]
    if connection.vendor != "postgresql":
        raise AnalysisError(f"database {database!r} is not PostgreSQL ({connection.vendor})")
    whole_history = selection == "all"
    progress("loading the migration graph")
    loader = load_graph(None if whole_history else connection)
    executor = MigrationExecutor(connection)
    executor.loader = loader
    applied = set() if whole_history else set(loader.applied_migrations)

    # The migrations to render, in order, and which of them the report covers.
    leaves = loader.graph.leaf_nodes()
    target_nodes = _parse_targets(loader, targets or []) if selection == "targets" else list(leaves)
    plan_items = executor.migration_plan(target_nodes, clean_start=whole_history)
    if any(backwards for _, backwards in plan_items):
        raise AnalysisError(
            "the targets are behind the applied state: dbgov plans forward migrations only"
        )
    to_render: list[DjangoMigration] = [m for m, _ in plan_items]
    if task:
        task_nodes = [m for m in to_render if getattr(m, "dbgov_task", None) == task]
        to_render = (
            [
                m
                for m, _ in executor.migration_plan(
                    [(m.app_label, m.name) for m in task_nodes], clean_start=whole_history
                )
            ]
            if task_nodes
            else []
        )
        selected = {(m.app_label, m.name) for m in task_nodes}
    else:
        selected = {(m.app_label, m.name) for m in to_render}
    # The shadow starts empty: replay what the target has applied first.
    applied_first = (
        [
            m
            for m, _ in executor.migration_plan(leaves, clean_start=True)
            if (m.app_label, m.name) in applied
        ]
        if applied
        else []
    )

    try:
        server_version = connection.pg_version  # type: ignore[attr-defined]
    except DatabaseError as exc:
        raise AnalysisError(f"database {database!r} does not answer: {str(exc).strip()}") from exc

    plan = Plan(
        database=database,
        server_version=server_version,
        selection="task" if task else selection,
        task=task,
    )
    reports: list[Migration] = []
    if to_render:
        progress(
            f"rendering {len(to_render)} migration(s) on a shadow database"
            + (f" after replaying {len(applied_first)} applied" if applied_first else "")
        )
        with (
            shadow_database(database) as shadow,
            Renderer(database, shadow, loader.unmigrated_apps) as renderer,
        ):
            for migration in applied_first:
                renderer.apply(migration, None)
            for migration in to_render:
                key = (migration.app_label, migration.name)
                report = describe_migration(migration, selected=key in selected, applied=False)
                renderer.apply(migration, report)
                reports.append(report)
            logger.debug("render stats: %s", renderer.stats)
    plan.migrations = reports
    if run_rules:
        from .facts import attach_facts
        from .rules import evaluate

        created_by = attach_facts(plan, single_deploy=single_deploy)
        plan.findings = evaluate(
            plan,
            {(m.app_label, m.name): m for m in to_render},
            created_by=created_by,
            query_patterns=registered_query_patterns(),
        )
    plan.duration_s = time.perf_counter() - started
    return plan
