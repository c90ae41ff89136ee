"""``manage.py dbgov lint FILE.sql|DIR …`` (also ``python -m dbgov lint``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import CommandError

from ..analysis.report import to_json, to_sarif
from ..analysis.rules import all_rules
from ..lint import LintError, lint_files, render_lint_text
from . import EXIT_ERROR, EXIT_NEEDS_REVIEW, EXIT_OK, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = (
        "Lint plain SQL files with the SQL rules (each file is one migration). "
        "Exit 0: nothing needs review; 1: something does; 2: error."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "paths",
            nargs="+",
            metavar="FILE.sql|DIR",
            help="files, or directories searched for *.sql",
        )
        parser.add_argument(
            "--assume-in-transaction",
            action="store_true",
            help="each file runs inside a transaction (as a Django atomic migration does)",
        )
        parser.add_argument(
            "--pg-version",
            type=int,
            metavar="N",
            help='PostgreSQL major version to reason about (default: DBGOV["PG_VERSION"], else the newest)',
        )
        parser.add_argument(
            "--format",
            choices=["text", "json", "sarif"],
            default="text",
            help="text for people; json (the plan schema) or sarif 2.1.0 for machines",
        )

    def handle(self, **options: Any) -> int:
        try:
            plan = lint_files(
                options["paths"],
                assume_in_transaction=options["assume_in_transaction"],
                pg_version=options["pg_version"],
            )
        except LintError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        fmt = options["format"]
        if fmt == "json":
            self.stdout.write(json.dumps(to_json(plan), indent=2))
        elif fmt == "sarif":
            self.stdout.write(json.dumps(to_sarif(plan, all_rules()), indent=2))
        else:
            self.stdout.write(render_lint_text(plan, self.style), ending="")
        return EXIT_NEEDS_REVIEW if plan.needs_review else EXIT_OK
