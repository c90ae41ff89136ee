"""The migration ledger: what each database applied, and applied migrations changed since."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import DatabaseError, OperationalError, connections

from dbgov.analysis import model as am
from dbgov.analysis.errors import AnalysisError
from dbgov.models import (
    ApprovalRequest,
    Ledger,
)

from .common import RULE_APPLIED_CHANGED, RULE_APPLIED_MISSING
from .fingerprints import display_path, file_sha256, migration_file


def table_exists(model: Any, database: str) -> bool:
    """Whether ``model``'s table exists on ``database`` (a catalog read)."""
    return model._meta.db_table in connections[database].introspection.table_names()


def installed(database: str = "default") -> bool:
    """Whether dbgov's governance tables exist on ``database``.

    A server that does not answer is an error, never "not installed": the gate would
    otherwise tell the user to migrate a database it cannot reach.
    """
    try:
        return table_exists(ApprovalRequest, database)
    except OperationalError as exc:
        raise AnalysisError(
            f"database {database!r} does not answer: {' '.join(str(exc).split())}"
        ) from exc
    except DatabaseError:
        return False


def record_ledger(
    migration_plan: Iterable[tuple[Any, bool]],
    *,
    using: str,
    app_label: str | None = None,
    sql: dict[tuple[str, str], str] | None = None,
) -> int:
    """Append the sha256 of each migration file just (un)applied (of ``app_label``
    only, when given), with the sha256 of its rendered SQL when ``sql`` knows it."""
    rows = []
    sql = sql or {}
    for migration, backwards in migration_plan:
        if app_label is not None and migration.app_label != app_label:
            continue
        path = migration_file(migration)
        sha = file_sha256(path) if path is not None and path.exists() else ""
        rows.append(
            Ledger(
                database=using,
                app_label=migration.app_label,
                name=migration.name,
                action=Ledger.Action.UNAPPLIED if backwards else Ledger.Action.APPLIED,
                sha256=sha,
                sql_sha256=sql.get((migration.app_label, migration.name), ""),
                path=display_path(path),
            )
        )
    Ledger.objects.using(using).bulk_create(rows)
    return len(rows)


def integrity_findings(database: str = "default", plan: am.Plan | None = None) -> list[am.Finding]:
    """Applied migrations whose file changed since, or that are missing on disk; with
    a ``plan`` that rendered applied migrations (``plan --all``), also those whose SQL
    differs from the SQL recorded when they were applied."""
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[database]
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return []
    applied = set(recorder.applied_migrations())
    loader = MigrationLoader(None, ignore_no_migrations=True)
    disk = loader.disk_migrations
    replaced = {key for m in disk.values() for key in (m.replaces or [])}
    latest: dict[tuple[str, str], Ledger] = {}
    if table_exists(Ledger, database):
        from .integrity import signature_ok, signing_keys

        keys = dict(signing_keys())
        # Only signed rows speak for what was applied: a row INSERTed around dbgov
        # (dbgov verify names it) cannot hide an edited migration.
        for entry in (
            Ledger.objects.using(database).filter(database=database).order_by("-seq", "-id")
        ):
            key = (entry.app_label, entry.name)
            if key not in latest and signature_ok(entry, keys):
                latest[key] = entry
    rendered_sql = {
        m.key: sha
        for m in (plan.migrations if plan is not None else [])
        if (sha := m.sql_sha256) is not None  # compared for applied migrations below
    }
    findings: list[am.Finding] = []
    for key in sorted(applied):
        app, name = key
        if app not in loader.migrated_apps:
            continue  # an app removed from INSTALLED_APPS: not ours to judge
        recorded = latest.get(key)
        if key not in disk:
            if key in replaced:
                continue
            findings.append(
                am.Finding(
                    rule_id=RULE_APPLIED_MISSING,
                    severity=am.Severity.ERROR,
                    message=(
                        f"{app}.{name} is recorded as applied on {database!r} but its file "
                        "is missing on disk."
                    ),
                    safe_alternative=(
                        "Restore the migration file from version control. Squashed "
                        "migrations keep their originals until every database applied the "
                        "squash (`replaces`)."
                    ),
                    app_label=app,
                    migration=name,
                    path=recorded.path if recorded else None,
                )
            )
            continue
        if recorded is None or recorded.action != Ledger.Action.APPLIED or not recorded.sha256:
            continue  # applied before dbgov kept the ledger: nothing to compare with
        path = migration_file(disk[key])
        if path is None or not path.exists():
            continue
        sha = file_sha256(path)
        rendered = rendered_sql.get(key)
        if sha == recorded.sha256 and rendered and recorded.sql_sha256 not in ("", rendered):
            findings.append(
                am.Finding(
                    rule_id=RULE_APPLIED_CHANGED,
                    severity=am.Severity.ERROR,
                    message=(
                        f"{app}.{name} was applied on {database!r} with SQL sha256 "
                        f"{recorded.sql_sha256[:12]}… but now renders {rendered[:12]}…: its "
                        "file is unchanged, something it reads (a .sql file?) changed."
                    ),
                    safe_alternative=(
                        "Restore what the migration reads to the applied content and write "
                        "the change as a new migration."
                    ),
                    app_label=app,
                    migration=name,
                    path=display_path(path),
                )
            )
            continue
        if sha != recorded.sha256:
            findings.append(
                am.Finding(
                    rule_id=RULE_APPLIED_CHANGED,
                    severity=am.Severity.ERROR,
                    message=(
                        f"{app}.{name} was applied on {database!r} with sha256 "
                        f"{recorded.sha256[:12]}… but the file is now {sha[:12]}…: never "
                        "modify applied migrations."
                    ),
                    safe_alternative=(
                        "Restore the file to the content that was applied and write the "
                        "change as a new migration (`dbgov makemigrations --task T-NNN`)."
                    ),
                    app_label=app,
                    migration=name,
                    path=display_path(path),
                )
            )
    return findings
