"""``manage.py migrate`` with dbgov's gate (``DBGOV["ENFORCE_ON_MIGRATE"]``).

Django's own migrate, unchanged, when enforcement is off. When it is on, the
migrations this run would apply are planned first; if any has a finding that lacks
the approvals it needs, migrate refuses and names them. ``--dbgov-override REASON``
applies anyway and records the override (who, why, what) in the audit log.
"""

from __future__ import annotations

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
        override = options.pop("dbgov_override", None)
        read_only = options.get("plan") or options.get("check_unapplied")
        if dbgov_settings.ENFORCE_ON_MIGRATE and not read_only:
            self.dbgov_gate(options, override)
        super().handle(*args, **options)

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
