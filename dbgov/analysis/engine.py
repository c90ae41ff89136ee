"""``build_plan``: migrations in, a Plan (SQL in ``migrate``'s order, facts, findings) out.

No statement of a migration ever runs on the target's server. The target is only read:
its list of applied migrations and server version (graph.py), and its schema from the
catalog (a snapshot, then ``pg_dump --schema-only`` when the sandbox has no template for
that schema yet), each with a short lock timeout. Rendering happens in the sandbox
(dbgov.sandbox), starting from a clone of the target's schema, so a plan costs what the
pending migrations cost, not what the history costs; the render cache (render_cache.py)
skips even that when nothing changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration as DjangoMigration
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState
from django.db.utils import DatabaseError

from ..conf import dbgov_settings
from ..sandbox import SandboxError, SandboxServer, open_sandbox_server, run_database
from ..sandbox.server import ServerAccess
from ..sandbox.snapshot import SchemaSnapshot, read_snapshot
from ..sandbox.templates import ensure_schema_template, find_template, save_as_template
from .describe import describe_migration
from .errors import AnalysisError
from .graph import load_graph
from .model import Finding, Migration, Plan
from .progress import Step
from .render import Renderer
from .render_cache import (
    RenderCache,
    environment_key,
    history_key,
    label_chain,
    load_into,
    migration_key,
    sha,
)
from .risk import TargetStatistics, attach_risk, read_statistics
from .selection import Selection, select

__all__ = ["build_drift", "build_plan", "load_graph", "registered_query_patterns"]

logger = logging.getLogger("dbgov.engine")

Progress = Callable[[str], None]


def _no_progress(message: str) -> None:
    pass


def registered_query_patterns() -> frozenset[str] | None:
    """The names ``DBGOV["QUERY_PATTERN_NAMES"]`` returns (a pluggable registry)."""
    from django.utils.module_loading import import_string

    path = dbgov_settings.QUERY_PATTERN_NAMES
    if not path:
        return None
    try:
        return frozenset(import_string(path)())
    except ImportError as exc:
        raise AnalysisError(
            f"DBGOV['QUERY_PATTERN_NAMES'] = {path!r} cannot be imported: {exc}"
        ) from exc


@dataclass
class TargetFacts:
    """What the plan read from the target."""

    version: int | None
    snapshot: SchemaSnapshot | None = None
    statistics: TargetStatistics | None = None


def _read_target(alias: str, *, schema: bool) -> TargetFacts:
    connection = connections[alias]
    try:
        version = connection.pg_version  # type: ignore[attr-defined]
    except DatabaseError as exc:
        raise AnalysisError(f"database {alias!r} does not answer: {str(exc).strip()}") from exc
    if not schema:
        return TargetFacts(version)
    access = ServerAccess.from_alias(alias)
    try:
        with access.connect(
            connection.settings_dict["NAME"], application_name="dbgov catalog read"
        ) as conn:
            snapshot = read_snapshot(
                conn, lock_timeout_ms=int(dbgov_settings.TARGET_LOCK_TIMEOUT_MS)
            )
            statistics = read_statistics(
                conn, lock_timeout_ms=int(dbgov_settings.TARGET_LOCK_TIMEOUT_MS)
            )
    except SandboxError as exc:
        raise AnalysisError(str(exc)) from exc
    except DatabaseError as exc:  # pragma: no cover - psycopg errors are not Django's
        raise AnalysisError(f"database {alias!r}: {exc}") from exc
    except Exception as exc:
        if "lock timeout" in str(exc):
            raise AnalysisError(
                f"database {alias!r}: reading the catalog timed out waiting for a lock "
                "(DBGOV['TARGET_LOCK_TIMEOUT_MS']); is a migration running?"
            ) from exc
        raise AnalysisError(f"database {alias!r}: reading the catalog failed: {exc}") from exc
    return TargetFacts(version, snapshot, statistics)


def _configured_version() -> int | None:
    configured = dbgov_settings.PG_VERSION
    if not configured:
        return None
    value = int(configured)
    return value * 10000 if value < 1000 else value


def _base_state(executor: MigrationExecutor, base: Sequence[DjangoMigration]) -> ProjectState:
    """The unrendered project state after ``base`` (cheap: no model classes are built)."""
    state = ProjectState(real_apps=set(executor.loader.unmigrated_apps))
    for migration in base:
        for op in migration.operations:
            op.state_forwards(migration.app_label, state)
    return state


def build_plan(
    *,
    database: str = DEFAULT_DB_ALIAS,
    selection: str = "pending",
    targets: Sequence[tuple[str, str | None]] | None = None,
    task: str | None = None,
    since: str | None = None,
    progress: Progress = _no_progress,
    run_rules: bool = True,
    single_deploy: bool = False,
    use_cache: bool = True,
) -> Plan:
    """Analyse the migrations of ``database``.

    selection: "pending" (default: what `migrate` would apply), "all" (the whole
    history, rendered from an empty database), "targets" (like `migrate app [name]`),
    or "since" (migrations added or changed since the git ref ``since``). ``task``
    keeps only the migrations of that task (and what they need).

    single_deploy: treat every table created in the plan as new for all of it (by
    default a table is new only for the task that creates it; see facts.py).
    """
    started = time.perf_counter()
    if database not in connections:
        raise AnalysisError(f"unknown database alias {database!r}")
    connection = connections[database]
    if connection.vendor != "postgresql":
        raise AnalysisError(f"database {database!r} is not PostgreSQL ({connection.vendor})")
    reads_target = selection not in ("all", "since")
    progress("loading the migration graph")
    loader = load_graph(connection if reads_target else None)
    executor = MigrationExecutor(connection)
    executor.loader = loader
    chosen = select(executor, kind=selection, targets=targets or [], task=task, since=since)

    in_transaction = connection.in_atomic_block
    if chosen.start == "schema" and in_transaction:
        # The caller holds a transaction on the target: another session (the catalog
        # read, pg_dump) would see the committed schema, not this one, and may wait on
        # the caller's own locks. Start from what the applied migrations make instead.
        chosen.start = "history"
    if reads_target:
        target = _read_target(database, schema=not in_transaction)
    else:
        try:
            target = _read_target(database, schema=False)
        except AnalysisError:
            target = TargetFacts(_configured_version())
    plan = Plan(
        database=database,
        server_version=target.version,
        selection="task" if task else chosen.kind,
        task=task,
    )
    if reads_target and in_transaction:
        plan.notes.append(
            f"database {database!r} is inside a transaction here: the sandbox starts from "
            "what its applied migrations make, not from its schema as other sessions see it"
        )
    cache = RenderCache.from_settings(enabled=use_cache)
    env = environment_key(
        loader.disk_migrations.values(),
        alias=database,
        backend=connection.settings_dict["ENGINE"],
        target_version=target.version,
    )
    start_key = _start_key(env, chosen, target)
    reports = [
        describe_migration(m, selected=(m.app_label, m.name) in chosen.selected, applied=False)
        for m in chosen.to_render
    ]
    keys = _chain_keys(start_key, chosen.to_render, reports)
    cached = [cache.get(k) for k in keys]
    for report, doc in zip(reports, cached, strict=True):
        if doc is not None:
            load_into(report, doc)
    if any(doc is None for doc in cached):
        _render(
            plan,
            database,
            executor,
            chosen,
            target,
            reports,
            keys,
            cached,
            cache,
            env=env,
            start_key=start_key,
            progress=progress,
        )
    elif chosen.to_render:
        progress(f"{len(reports)} migration(s) from the render cache")
    plan.migrations = reports
    _attach_phases(loader, chosen.to_render, reports)
    plan.cache_hits = sum(1 for doc in cached if doc is not None)
    if target.snapshot is not None and chosen.start == "schema":
        plan.findings.extend(_drift_against_history(executor, chosen, target, cache, env))
    if run_rules:
        from .facts import attach_facts
        from .rules import evaluate

        schema = None
        if target.snapshot is not None:
            from django.conf import settings

            from .snapshot_schema import schema_from_snapshot

            # What the SQL alone cannot say (a column's type, a user function's
            # volatility, which constraints are foreign keys) comes from the target.
            schema = schema_from_snapshot(
                target.snapshot,
                major=target.version // 10000 if target.version else None,
                timezone_utc=bool(settings.USE_TZ) or None,
            )
        created_by = attach_facts(plan, single_deploy=single_deploy, schema=schema)
        plan.findings.extend(
            evaluate(
                plan,
                {(m.app_label, m.name): m for m in chosen.to_render},
                created_by=created_by,
                query_patterns=registered_query_patterns(),
            )
        )
    attach_risk(plan, target.statistics)
    plan.duration_s = time.perf_counter() - started
    return plan


def _attach_phases(
    loader: Any, migrations: Sequence[DjangoMigration], reports: Sequence[Migration]
) -> None:
    from .phases import phases_of

    decisions = phases_of(loader, [(m.app_label, m.name) for m in migrations])
    for report in reports:
        decision = decisions[report.key]
        report.phase = decision.phase
        report.phase_reasons = list(decision.reasons)


def _start_key(env: str, chosen: Selection, target: TargetFacts) -> str:
    if chosen.start == "empty":
        return sha(env, "empty")
    if chosen.start == "history":
        return history_key(env, chosen.base)
    digest = target.snapshot.digest() if target.snapshot is not None else "?"
    return sha(env, "schema", digest, label_chain(chosen.base))


def _chain_keys(
    start_key: str, migrations: Sequence[DjangoMigration], reports: Sequence[Migration]
) -> list[str]:
    keys = []
    previous = start_key
    for migration, report in zip(migrations, reports, strict=True):
        previous = migration_key(previous, migration, report.sha256)
        keys.append(previous)
    return keys


def _open_server(
    target: TargetFacts, database: str, plan: Plan, progress: Progress
) -> SandboxServer:
    major = target.version // 10000 if target.version else None
    try:
        server = open_sandbox_server(database, major)
    except SandboxError as exc:
        raise AnalysisError(f"sandbox: {exc}") from exc
    plan.sandbox = server.describe()
    plan.notes.extend(server.warnings)
    if major and server.major < major:
        plan.notes.append(
            f"the sandbox runs PostgreSQL {server.major}, older than the target's {major}: "
            "dbgov cannot guarantee that the SQL shown is exactly what the target would run"
        )
    elif major and server.major > major:
        plan.notes.append(
            f"SQL rendered for PostgreSQL {major} (Django's features follow the target) in a "
            f"PostgreSQL {server.major} sandbox"
        )
    progress(f"rendering in the {server.describe()}")
    return server


def _render(
    plan: Plan,
    database: str,
    executor: MigrationExecutor,
    chosen: Selection,
    target: TargetFacts,
    reports: list[Migration],
    keys: list[str],
    cached: list[dict[str, Any] | None],
    cache: RenderCache,
    *,
    env: str,
    start_key: str,
    progress: Progress,
) -> None:
    server = _open_server(target, database, plan, progress)
    template: str | None = None
    replay_base = False
    try:
        if chosen.start == "schema":
            assert target.snapshot is not None
            template = ensure_schema_template(
                server,
                key=start_key,
                target=ServerAccess.from_alias(database),
                target_dbname=connections[database].settings_dict["NAME"],
                extensions=[
                    (o.name, o.definition.rsplit(" in ", 1)[-1])
                    for o in target.snapshot.objects
                    if o.kind == "extension"
                ],
                progress=progress,
            )
        elif chosen.start == "history":
            found = find_template(server.admin, start_key)
            template = found.name if found else None
            replay_base = found is None
    except SandboxError as exc:
        raise AnalysisError(f"sandbox: {exc}") from exc
    state = _base_state(executor, [] if replay_base else chosen.base)
    misses = sum(1 for doc in cached if doc is None)
    progress(
        f"rendering {misses} migration(s)"
        + (f", {len(reports) - misses} from the render cache" if misses < len(reports) else "")
    )
    try:
        with (
            run_database(
                server, alias=database, target_version=target.version, template=template
            ) as run,
            Renderer(database, run.wrapper, state) as renderer,
        ):
            if replay_base:
                _render_history(renderer, chosen.base, start_key, cache, progress)
                run.disconnect()
                save_as_template(
                    server, run.name, key=start_key, meta={"migrations": len(chosen.base)}
                )
            for done, (migration, report, key, doc) in enumerate(
                zip(chosen.to_render, reports, keys, cached, strict=True), start=1
            ):
                progress(Step(f"{report.label}", done=done, total=len(reports)))
                if doc is not None:
                    renderer.replay(migration, report)
                else:
                    renderer.apply(migration, report)
                    cache.put(key, report)
            logger.debug("render stats: %s", renderer.stats)
            plan.render_stats = renderer.stats
    except SandboxError as exc:
        raise AnalysisError(f"sandbox: {exc}") from exc


def _render_history(
    renderer: Renderer,
    base: Sequence[DjangoMigration],
    start_key: str,
    cache: RenderCache,
    progress: Progress,
) -> None:
    """Render ``base`` from an empty database (cached per migration like any other)."""
    # `migrate` creates its table first; the history's schema has it too.
    MigrationRecorder(renderer.sandbox).ensure_schema()
    env_empty = sha(start_key, "from-empty")
    progress(f"building the history template: {len(base)} migration(s) from an empty database")
    previous = env_empty
    for done, migration in enumerate(base, start=1):
        report = describe_migration(migration, selected=False, applied=True)
        progress(Step(f"history {report.label}", done=done, total=len(base)))
        previous = migration_key(previous, migration, report.sha256)
        doc = cache.get(previous)
        if doc is not None:
            load_into(report, doc)
            renderer.replay(migration, report)
        else:
            renderer.apply(migration, report)
            cache.put(previous, report)


def _drift_against_history(
    executor: MigrationExecutor,
    chosen: Selection,
    target: TargetFacts,
    cache: RenderCache,
    env: str,
) -> list[Finding]:
    """Drift findings when ``dbgov drift`` cached the schema of this applied history."""
    from .drift import compare

    assert target.snapshot is not None
    doc = cache.get_json("snapshots", history_key(env, chosen.base))
    if doc is None:
        return []
    expected = SchemaSnapshot.from_json(doc)
    if expected.digest() == target.snapshot.digest():
        return []
    return compare(expected, target.snapshot, severity_cap="warning")


def build_drift(
    *, database: str = DEFAULT_DB_ALIAS, progress: Progress = _no_progress, use_cache: bool = True
) -> Plan:
    """Schema drift of ``database``: its schema against what its applied migrations make.

    Returns a Plan whose findings are the ``schema-drift`` findings (no migrations).
    """
    from .drift import compare

    started = time.perf_counter()
    if database not in connections:
        raise AnalysisError(f"unknown database alias {database!r}")
    connection = connections[database]
    if connection.vendor != "postgresql":
        raise AnalysisError(f"database {database!r} is not PostgreSQL ({connection.vendor})")
    progress("loading the migration graph")
    loader = load_graph(connection)
    executor = MigrationExecutor(connection)
    executor.loader = loader
    applied = set(loader.applied_migrations)
    base = [
        m
        for m, _ in executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True)
        if (m.app_label, m.name) in applied
    ]
    target = _read_target(database, schema=True)
    assert target.snapshot is not None
    plan = Plan(database=database, server_version=target.version, selection="drift")
    cache = RenderCache.from_settings(enabled=use_cache)
    env = environment_key(
        loader.disk_migrations.values(),
        alias=database,
        backend=connection.settings_dict["ENGINE"],
        target_version=target.version,
    )
    key = history_key(env, base)
    doc = cache.get_json("snapshots", key)
    if doc is not None:
        expected = SchemaSnapshot.from_json(doc)
        progress("the applied history's schema comes from the cache")
    else:
        expected = _history_snapshot(plan, database, executor, base, target, cache, key, progress)
        cache.put_json("snapshots", key, expected.to_json())
    plan.findings = compare(expected, target.snapshot)
    plan.duration_s = time.perf_counter() - started
    return plan


def _history_snapshot(
    plan: Plan,
    database: str,
    executor: MigrationExecutor,
    base: list[DjangoMigration],
    target: TargetFacts,
    cache: RenderCache,
    key: str,
    progress: Progress,
) -> SchemaSnapshot:
    """Render ``base`` from an empty database in the sandbox and read its schema."""
    server = _open_server(target, database, plan, progress)
    try:
        found = find_template(server.admin, key)
        with run_database(
            server,
            alias=database,
            target_version=target.version,
            template=found.name if found else None,
            purpose="drift",
        ) as run:
            if found is None:
                state = _base_state(executor, [])
                with Renderer(database, run.wrapper, state) as renderer:
                    _render_history(renderer, base, key, cache, progress)
                    plan.render_stats = renderer.stats
                run.disconnect()
                save_as_template(server, run.name, key=key, meta={"migrations": len(base)})
            with server.admin.connect(run.name, application_name="dbgov drift") as conn:
                return read_snapshot(conn)
    except SandboxError as exc:
        raise AnalysisError(f"sandbox: {exc}") from exc
