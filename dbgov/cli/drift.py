"""``manage.py dbgov drift``: the target's schema against what its applied migrations make."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import CommandError

from ..analysis.errors import AnalysisError
from ..analysis.model import Plan
from ..analysis.report import to_json, to_sarif
from . import EXIT_ERROR, EXIT_NEEDS_REVIEW, EXIT_OK, BaseSubcommand
from .progress import StderrProgress


class Subcommand(BaseSubcommand):
    help = (
        "Compare the target's schema with the schema its applied migrations produce "
        "(rendered in the sandbox, cached): missing or extra tables, columns, indexes, "
        "constraints, type and default differences. Exit 0: no drift; 1: drift; 2: error."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument("--format", choices=["text", "json", "sarif"], default="text")
        parser.add_argument(
            "--no-cache", action="store_true", help="render the applied history again"
        )

    def handle(self, **options: Any) -> int:
        from ..analysis.engine import build_drift
        from ..analysis.rules import all_rules

        quiet = options["format"] != "text" or options.get("verbosity", 1) < 1

        progress = StderrProgress(self, quiet=quiet)

        try:
            plan = build_drift(
                database=options["database"], progress=progress, use_cache=not options["no_cache"]
            )
        except AnalysisError as exc:
            if options.get("traceback"):
                raise
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        finally:
            progress.close()
        if options["format"] == "json":
            self.stdout.write(json.dumps(to_json(plan), indent=2))
        elif options["format"] == "sarif":
            self.stdout.write(json.dumps(to_sarif(plan, all_rules()), indent=2))
        else:
            self._text(plan)
        return EXIT_NEEDS_REVIEW if plan.findings else EXIT_OK

    def _text(self, plan: Plan) -> None:
        w = self.stdout.write
        w(self.style.MIGRATE_HEADING(f"dbgov drift · database {plan.database!r}"))
        for note in plan.notes:
            w(self.style.NOTICE(f"note: {note}"))
        if not plan.findings:
            w(self.style.SUCCESS("No drift: the schema is what the applied migrations make."))
            return
        for f in plan.findings:
            style = self.style.WARNING if f.severity.value == "warning" else self.style.ERROR
            w(f"  {style(f.severity.value)} {f.message}")
        w("")
        w(
            self.style.WARNING(
                f"{len(plan.findings)} difference(s). Instead: {plan.findings[0].safe_alternative}"
            )
        )
