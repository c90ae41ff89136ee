"""``manage.py migrate`` with dbgov's gate (``DBGOV["ENFORCE_ON_MIGRATE"]``).

Django's own migrate, unchanged, when enforcement is off. When it is on, the
migrations this run would apply are planned first; if any has a finding that lacks
the approvals it needs, migrate refuses and names them. ``--dbgov-override REASON``
applies anyway and records the override (who, why, what) in the audit log.

With ``DBGOV["MIGRATE_GUARD"]`` (the default) every run is guarded (dbgov.guard,
docs/migrate.md): lock/statement timeouts, safe retries, one run per database at a time.

Either way, every migration the executor applies or unapplies — of every app, with
models or without — is appended to the signed ledger with its file's sha256 (and,
when the gate planned it, the sha256 of the SQL it renders).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from dbgov.cli.errors import clear_errors
from dbgov.conf import dbgov_settings


class Command(migrate.Command):
    help = migrate.Command.help + " Gated by dbgov when DBGOV['ENFORCE_ON_MIGRATE'] is set."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--dbgov-override",
            metavar="REASON",
            help="break glass: apply migrations that lack approvals; the reason is audited",
        )
        parser.add_argument(
            "--phase",
            dest="dbgov_phase",
            choices=["pre", "post"],
            help="pre: apply the pre-deploy migrations, stopping before the first post-deploy "
            "one; post: apply the rest (after the new release is deployed). See docs/fix.md",
        )

    def execute(self, *args: Any, **options: Any) -> Any:
        # Bad input (a broken migration file, an unreachable database) → one line, exit 2.
        database = options.get("database") or DEFAULT_DB_ALIAS
        with clear_errors(
            "migrate",
            traceback=bool(options.get("traceback")),
            database=database,
            own_command_errors=False,
        ):
            # dbgov's graph loader names the file / app / database in one line where
            # Django's migrate would print a traceback or a multi-line CommandError.
            from dbgov.analysis.graph import load_graph

            load_graph(connections[database])
            return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        from dbgov.governance.signals import ledger_by_executor

        override = options.pop("dbgov_override", None)
        phase = options.pop("dbgov_phase", None)
        read_only = options.get("plan") or options.get("check_unapplied")
        if phase:
            for app_label, name in self.phase_targets(options, phase):
                self.handle(*args, **{**options, "app_label": app_label, "migration_name": name})
            return
        self.dbgov_done: list[tuple[Any, bool]] = []
        self.dbgov_sql: dict[tuple[str, str], str] = {}
        if dbgov_settings.ENFORCE_ON_MIGRATE and not read_only:
            self.dbgov_gate(options, override)
        token = ledger_by_executor.set(True)
        try:
            if not dbgov_settings.MIGRATE_GUARD or read_only:
                super().handle(*args, **options)
            else:
                from dbgov.guard import guarded_migrate

                database = options.get("database") or DEFAULT_DB_ALIAS
                with guarded_migrate(database, self.stderr, self.style):
                    super().handle(*args, **options)
        finally:
            ledger_by_executor.reset(token)
            self.dbgov_record_ledger(options.get("database") or DEFAULT_DB_ALIAS)

    def migration_progress_callback(
        self, action: str, migration: Any = None, fake: bool = False
    ) -> None:
        super().migration_progress_callback(action, migration, fake)
        if action in ("apply_success", "unapply_success"):
            self.dbgov_done.append((migration, action == "unapply_success"))

    def dbgov_record_ledger(self, database: str) -> None:
        """Append what the executor did, once dbgov's tables exist on ``database`` (a
        fresh install records the migrations applied before dbgov's own)."""
        from dbgov.governance.services import installed, record_ledger

        if self.dbgov_done and installed(database):
            record_ledger(self.dbgov_done, using=database, sql=self.dbgov_sql)

    def phase_targets(self, options: dict[str, Any], phase: str) -> list[tuple[str, str]]:
        """(app, last migration) runs that apply exactly this phase's part (docs/fix.md)."""
        from dbgov.analysis.errors import AnalysisError
        from dbgov.analysis.phases import phase_run

        database = options.get("database") or DEFAULT_DB_ALIAS
        forward = [tuple(label.split(".", 1)) for label in self.forward_labels(options)]
        try:
            run = phase_run(MigrationExecutor(connections[database]).loader, forward, phase)  # type: ignore[arg-type]
        except AnalysisError as exc:
            raise CommandError(f"dbgov: {exc}") from exc
        self.stdout.write(run.message)
        return run.targets

    def forward_labels(self, options: dict[str, Any]) -> list[str]:
        """The migrations this run would apply forwards (as Django's migrate decides)."""
        database = options.get("database") or DEFAULT_DB_ALIAS
        executor = MigrationExecutor(connections[database])
        leaves = executor.loader.graph.leaf_nodes()
        app_label, name = options.get("app_label"), options.get("migration_name")
        targets: list[tuple[str, str | None]]
        if app_label and name:
            if name == "zero":
                targets = [(app_label, None)]
            else:
                migration = executor.loader.get_migration_by_prefix(app_label, name)
                targets = [(app_label, migration.name)]
        elif app_label:
            targets = [key for key in leaves if key[0] == app_label]
        else:
            targets = leaves
        plan = executor.migration_plan(targets)
        return [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]

    def dbgov_gate(self, options: dict[str, Any], override: str | None) -> None:
        from dbgov.analysis.errors import AnalysisError
        from dbgov.governance.gate import run_gate
        from dbgov.governance.services import audit, installed

        database = options.get("database") or DEFAULT_DB_ALIAS
        if creating_test_database() or not installed(DEFAULT_DB_ALIAS):
            # The test runner's own database, or a fresh install: no approvals can
            # exist yet, and blocking would only stop teams from turning the gate on.
            return
        labels = self.forward_labels(options)
        if not labels:
            return
        try:
            run = run_gate(database, only=labels)
        except AnalysisError as exc:
            raise CommandError(f"dbgov: cannot plan the migrations to apply: {exc}") from exc
        if run.plan is not None:
            self.dbgov_sql = {
                m.key: sha for m in run.plan.migrations if (sha := m.sql_sha256) is not None
            }
        passing = sorted(set(run.ungoverned) & set(labels))
        if passing:
            audit(
                "migrate.ungoverned",
                subject=f"migrate on {database}",
                data={"database": database, "migrations": passing},
            )
        if run.ok:
            return
        result = run.result
        lines = [f"  integrity-violation: {v.message}" for v in run.violations] + [
            f"  {b.finding.migration_label or '-'}"
            + ("" if b.finding.operation_index is None else f" #{b.finding.operation_index}")
            + f" {b.finding.rule_id} ({b.finding.severity}): "
            + (b.state.decided or f"{len(b.state.approvals)}/{b.state.needed} approvals")
            + f" - {b.finding.message}"
            for b in result.blocked
        ]
        if override is not None and override.strip():
            audit(
                "migrate.override",
                subject=f"migrate on {database}",
                reason=override.strip(),
                data={"database": database, "migrations": labels, **run.as_dict()},
            )
            self.stderr.write(
                self.style.WARNING(
                    "dbgov: BREAK GLASS: applying migrations that lack approvals "
                    "(recorded in the audit log):\n" + "\n".join(lines)
                )
            )
            return
        if override is not None:
            raise CommandError("dbgov: --dbgov-override needs a reason")
        what = ", ".join(result.migrations) if result.blocked else "integrity violations"
        raise CommandError(
            "dbgov: refusing to migrate: these migrations have findings that lack approvals "
            f"({what}):\n"
            + "\n".join(lines)
            + "\nApprove them in the admin's approval queue (or pass --dbgov-override REASON)."
        )


def creating_test_database() -> bool:
    """Whether this migrate runs inside Django's test-database creation
    (``BaseDatabaseCreation.create_test_db``): that one is never gated."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "create_test_db" and code.co_filename.endswith(
            os.path.join("db", "backends", "base", "creation.py")
        ):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False
