"""``manage.py dbgov fix app_label migration [--dry-run]``: rewrite a flagged pending
migration into the safe sequence of migrations (docs/fix.md)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from . import EXIT_ERROR, EXIT_NEEDS_REVIEW, EXIT_OK, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = (
        "Rewrite a pending migration into safe steps (nullable + backfill + NOT NULL, "
        "CONCURRENTLY, NOT VALID + VALIDATE, state-only renames and removals, new column "
        "for type changes), verified by a re-plan and a sandbox round trip. Exit 0: "
        "written and clean; 1: written, findings remain for a reviewer; 2: error."
    )
    requires_system_checks = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app_label")
        parser.add_argument("migration", help="the migration's name or a unique prefix")
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument(
            "--dry-run", action="store_true", help="verify and print the files; write nothing"
        )
        parser.add_argument(
            "--backfill-value",
            metavar="VALUE",
            help="what existing rows get when a new NOT NULL field has no default",
        )

    def handle(self, **options: Any) -> int:
        from ..fix import FixError, fix_migration

        def progress(message: str) -> None:
            self.stderr.write(message, style_func=self.style.NOTICE)

        try:
            result = fix_migration(
                options["app_label"],
                options["migration"],
                database=options["database"],
                dry_run=options["dry_run"],
                backfill_value=options["backfill_value"],
                progress=progress,
            )
        except FixError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        out, style = self.stdout, self.style
        verb = "would replace" if options["dry_run"] else "replaced"
        out.write(
            style.MIGRATE_HEADING(
                f"{result.app_label}.{result.original} {verb} by {len(result.files)} "
                f"migration(s) ({', '.join(result.patterns)}):"
            )
        )
        for f in result.files:
            out.write(f"  {f.name}  {f.phase}-deploy  {f.path}")
        for path in result.rewired:
            out.write(f"  depends on the last step now: {path}")
        out.write(f"sandbox: applied {', '.join(result.sandbox)}")
        if result.remaining:
            out.write("re-plan: findings that remain, and why:")
            for r in result.remaining:
                out.write(f"  {r.finding.migration} {r.finding.rule_id}: {r.why}")
        else:
            out.write("re-plan: no finding needs review")
        for note in result.notes:
            out.write(style.WARNING(f"by hand: {note}"))
        if options["dry_run"]:
            for f in result.files:
                out.write(style.MIGRATE_HEADING(f"--- {f.path}"))
                out.write(f.text, ending="")
        return EXIT_NEEDS_REVIEW if result.remaining else EXIT_OK
