"""``manage.py dbgov seed``: load an environment's seed data, all or nothing."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import CommandError

from dbgov.cli import EXIT_ERROR, EXIT_OK, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = (
        "Load the seed data of an environment (fixtures/<env>/, <app>/fixtures/<env>/) in "
        "foreign-key order, in one transaction; unchanged files are skipped."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--env",
            dest="environment",
            help="Environment to seed (default: DBGOV['ENVIRONMENT']).",
        )
        parser.add_argument(
            "--database", default="default", help="Database alias to load into (default: default)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Load and check everything, then roll back; nothing is recorded.",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Confirm seeding production (also needs the setting).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Reload files even when they have not changed."
        )
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="Generator option, e.g. --option orders=1000000 (repeatable).",
        )
        parser.add_argument(
            "--seed", dest="random_seed", type=int, help="Random seed for every generator."
        )
        parser.add_argument(
            "--status",
            action="store_true",
            help="Show what each environment holds, when it was loaded and whether files changed.",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, **options: Any) -> int:
        from dbgov.extras import require

        require("seeds", "dbgov seed")
        from dbgov.seeds import SeedError, seed, seed_status

        fmt = options["format"]
        if options["status"]:
            database = options["database"] if options["database"] != "default" else None
            try:
                entries = seed_status(options["environment"], database)
            except SeedError as exc:
                raise CommandError(str(exc), returncode=EXIT_ERROR) from None
            if fmt == "json":
                self.stdout.write(json.dumps([e.as_dict() for e in entries], indent=2))
            else:
                self._print_status(entries)
            return EXIT_OK

        overrides: dict[str, str] = {}
        for item in options["option"]:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise CommandError(f"--option {item!r}: expected NAME=VALUE", returncode=EXIT_ERROR)
            overrides[name.strip()] = value.strip()
        try:
            report = seed(
                options["environment"],
                database=options["database"],
                dry_run=options["dry_run"],
                confirm=options["yes"],
                force=options["force"],
                options=overrides,
                random_seed=options["random_seed"],
                progress=lambda message: self.stderr.write(message),
            )
        except SeedError as exc:
            raise CommandError(f"{exc}\nNothing was loaded.", returncode=EXIT_ERROR) from None
        if fmt == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return EXIT_OK
        prefix = "(dry run, rolled back) " if report.dry_run else ""
        for f in report.files:
            if f.action == "skipped":
                line = f"  skipped  {f.path} (unchanged, {f.rows} rows)"
                self.stdout.write(line)
                continue
            removed = f", {f.removed} removed" if f.removed else ""
            line = (
                f"  {f.action:<8} {f.path}: {f.rows} rows{removed} in {f.duration_ms / 1000:.2f}s"
            )
            self.stdout.write(self.style.SUCCESS(line) if not report.dry_run else line)
        changed = [f for f in report.files if f.action != "skipped"]
        self.stdout.write(
            f"{prefix}{report.environment} → {report.database}: {len(changed)} file(s) loaded, "
            f"{len(report.files) - len(changed)} unchanged, {report.rows} rows "
            f"in {report.duration_ms / 1000:.2f}s"
        )
        return EXIT_OK

    def _print_status(self, entries: list[Any]) -> None:
        if not entries:
            self.stdout.write("No seed files and no seed loads.")
            return
        env = None
        for e in entries:
            if e.environment != env:
                env = e.environment
                self.stdout.write(self.style.MIGRATE_HEADING(f"{env}:"))
            where = f" → {e.database}" if e.database else ""
            when = f" at {e.loaded_at}, {e.rows} rows" if e.loaded_at else ""
            state = {
                "loaded": self.style.SUCCESS,
                "changed": self.style.WARNING,
                "missing": self.style.WARNING,
                "error": self.style.ERROR,
            }.get(e.state, str)(e.state)
            detail = f" ({e.detail})" if e.detail else ""
            if e.options:
                detail += " [" + ", ".join(f"{k}={v}" for k, v in e.options.items()) + "]"
            self.stdout.write(f"  {state:<10} {e.path}{where}{when}{detail}")
