"""``manage.py dbgov fix [app_label] [migration] [--dry-run]``: rewrite flagged pending
migrations into the safe sequence of migrations (docs/fix.md)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from . import EXIT_ERROR, EXIT_NEEDS_REVIEW, EXIT_OK, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = (
        "Rewrite a pending migration into safe steps (nullable + backfill + NOT NULL, "
        "CONCURRENTLY, NOT VALID + VALIDATE, state-only renames and removals, new column "
        "for type changes), verified by a sandbox round trip and a re-plan. Without a "
        "migration: every pending migration (of app_label) with findings to review. Exit "
        "0: written and clean; 1: written, findings remain for a reviewer; 2: error."
    )
    requires_system_checks = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app_label", nargs="?")
        parser.add_argument("migration", nargs="?", help="the migration's name or a unique prefix")
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

        app_label, name = options["app_label"], options["migration"]
        targets = [(app_label, name)] if name else self.flagged(options, progress)
        if not targets:
            self.stdout.write("No pending migration has findings to review.")
            return EXIT_OK
        codes = []
        for target_app, target_name in targets:
            try:
                result = fix_migration(
                    target_app,
                    target_name,
                    database=options["database"],
                    dry_run=options["dry_run"],
                    backfill_value=options["backfill_value"],
                    progress=progress,
                )
            except FixError as exc:
                if name:
                    raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
                self.stderr.write(f"not rewritten: {exc}", style_func=self.style.WARNING)
                codes.append(EXIT_ERROR)
                continue
            self.report(result, dry_run=options["dry_run"])
            codes.append(EXIT_NEEDS_REVIEW if result.remaining else EXIT_OK)
        if all(code == EXIT_ERROR for code in codes):
            raise CommandError(
                "none of the flagged migrations could be rewritten", returncode=EXIT_ERROR
            )
        return EXIT_NEEDS_REVIEW if any(codes) else EXIT_OK

    def flagged(self, options: dict[str, Any], progress: Any) -> list[tuple[str, str]]:
        """The pending migrations (of app_label) with findings that need review."""
        from ..analysis.engine import build_plan
        from ..analysis.errors import AnalysisError

        app_label = options["app_label"]
        try:
            plan = build_plan(
                database=options["database"],
                selection="targets" if app_label else "pending",
                targets=[(app_label, None)] if app_label else None,
                progress=progress,
            )
        except AnalysisError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        review = {(f.app_label, f.migration) for f in plan.findings if f.needs_review}
        return [
            m.key
            for m in plan.selected
            if m.key in review and (app_label is None or m.app_label == app_label)
        ]

    def report(self, result: Any, *, dry_run: bool) -> None:
        out, style = self.stdout, self.style
        verb = "would be replaced" if dry_run else "replaced"
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
        if dry_run:
            for f in result.files:
                out.write(style.MIGRATE_HEADING(f"--- {f.path}"))
                out.write(f.text, ending="")
