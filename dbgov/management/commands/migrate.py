"""``manage.py migrate`` with dbgov's gate (``DBGOV["ENFORCE_ON_MIGRATE"]``).

Django's own migrate, unchanged, when enforcement is off. When it is on, the
migrations this run would apply are planned first; if any has a finding that lacks
the approvals it needs, migrate refuses and names them. ``--dbgov-override REASON``
applies anyway and records the override (who, why, what) in the audit log.

With ``DBGOV["MIGRATE_GUARD"]`` (the default) every run is guarded (dbgov.guard,
docs/migrate.md): lock/statement timeouts, safe retries, one run per database at a time.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

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

    def handle(self, *args: Any, **options: Any) -> None:
        override = options.pop("dbgov_override", None)
        phase = options.pop("dbgov_phase", None)
        read_only = options.get("plan") or options.get("check_unapplied")
        if phase:
            for app_label, name in self.phase_targets(options, phase):
                self.handle(*args, **{**options, "app_label": app_label, "migration_name": name})
            return
        if dbgov_settings.ENFORCE_ON_MIGRATE and not read_only:
            self.dbgov_gate(options, override)
        if not dbgov_settings.MIGRATE_GUARD or read_only:
            super().handle(*args, **options)
            return
        from dbgov.guard import guarded_migrate

        with guarded_migrate(options.get("database") or DEFAULT_DB_ALIAS, self.stderr, self.style):
            super().handle(*args, **options)

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
        from dbgov.analysis.engine import build_plan
        from dbgov.analysis.errors import AnalysisError
        from dbgov.governance.services import audit, gate, integrity_findings

        database = options.get("database") or DEFAULT_DB_ALIAS
        labels = self.forward_labels(options)
        if not labels:
            return
        try:
            plan = build_plan(database=database, selection="pending")
        except AnalysisError as exc:
            raise CommandError(f"dbgov: cannot plan the migrations to apply: {exc}") from exc
        result = gate(plan, only=labels, extra_findings=integrity_findings(database))
        if result.ok:
            return
        lines = [
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
                data={"database": database, "migrations": labels, **result.as_dict()},
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
        raise CommandError(
            "dbgov: refusing to migrate: these migrations have findings that lack approvals "
            f"({', '.join(result.migrations)}):\n"
            + "\n".join(lines)
            + "\nApprove them in the admin's approval queue (or pass --dbgov-override REASON)."
        )
