"""``manage.py dbgov baseline``: accept today's findings on the applied history.

dbgov baseline [--as USER] [--reason TEXT]     record (again: only what is new)
dbgov baseline --status                        its size, and whether its chain holds
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import CommandError

from . import EXIT_ERROR, EXIT_OK, BaseSubcommand
from .approve import authenticated
from .progress import StderrProgress


class Subcommand(BaseSubcommand):
    help = (
        "Record the findings of every applied migration as accepted, so plan and check "
        "gate only new findings (stored, audited, append-only); --status shows the baseline."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument(
            "--as",
            dest="username",
            help="who records it (their password: on a terminal or in DBGOV_APPROVER_PASSWORD)",
        )
        parser.add_argument(
            "--reason",
            default="adopting dbgov: the applied history is accepted as it is",
            help="why (kept with every row and in the audit log)",
        )
        parser.add_argument(
            "--status", action="store_true", help="show the baseline and verify its hash chain"
        )
        parser.add_argument("--no-cache", action="store_true", help="render the history again")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, **options: Any) -> int:
        from django.db import connections

        from ..governance import services

        connections[options["database"]].ensure_connection()  # unreachable: one clear line
        if not services.installed(options["database"]):
            raise CommandError(
                f"database {options['database']!r}: dbgov's tables are not migrated; "
                "run `manage.py migrate dbgov` first",
                returncode=EXIT_ERROR,
            )
        if options["status"]:
            return self._status(options["format"])
        return self._record(options)

    def _status(self, fmt: str) -> int:
        from ..governance.baseline import baseline_status

        status = baseline_status()
        if fmt == "json":
            self.stdout.write(json.dumps(status.as_dict(), indent=2))
        elif not status.total:
            self.stdout.write("No baseline: every finding is gated. Record one: dbgov baseline")
        else:
            self.stdout.write(
                f"Baseline: {status.total} accepted finding(s) in {status.batches} recording(s), "
                f"last {status.last_recorded}."
            )
        if not status.chain_ok:
            raise CommandError(
                f"the baseline's hash chain is broken at row {status.broken_at}: "
                "a row was changed or removed outside dbgov",
                returncode=EXIT_ERROR,
            )
        if fmt == "text" and status.total:
            self.stdout.write(self.style.SUCCESS("Hash chain intact."))
        return EXIT_OK

    def _record(self, options: dict[str, Any]) -> int:
        from ..analysis.engine import build_plan
        from ..governance.baseline import record_baseline

        # Recording as someone needs their proof of identity, as a decision does.
        user = authenticated(options["username"]) if options["username"] else None
        quiet = options["format"] != "text" or options.get("verbosity", 1) < 1

        progress = StderrProgress(self, quiet=quiet)
        try:
            plan = build_plan(
                database=options["database"],
                selection="all",
                progress=progress,
                use_cache=not options["no_cache"],
            )
        finally:
            progress.close()
        record = record_baseline(
            plan, database=options["database"], user=user, reason=options["reason"]
        )
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "batch": record.batch,
                        "recorded": record.recorded,
                        "already": record.already,
                        "applied_migrations": record.applied_migrations,
                        "total": record.total,
                    },
                    indent=2,
                )
            )
            return EXIT_OK
        self.stdout.write(
            self.style.SUCCESS(
                f"Baseline: recorded {record.recorded} finding(s) of "
                f"{record.applied_migrations} applied migration(s) as accepted"
                + (f" ({record.already} already in it)" if record.already else "")
                + f"; {record.total} in the baseline. plan and check now gate only new findings."
            )
        )
        return EXIT_OK
