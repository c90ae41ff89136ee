"""``manage.py dbgov lint FILE.sql|DIR …`` (also ``python -m dbgov lint``)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from ..lint import LintError, add_lint_arguments, lint_files, write_lint
from . import EXIT_ERROR, EXIT_NEEDS_REVIEW, EXIT_OK, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = (
        "Lint plain SQL files with the SQL rules (each file is one migration). "
        "Exit 0: nothing needs review; 1: something does; 2: error."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_lint_arguments(parser)

    def handle(self, **options: Any) -> int:
        try:
            plan = lint_files(
                options["paths"],
                assume_in_transaction=options["assume_in_transaction"],
                pg_version=options["pg_version"],
                jobs=options.get("jobs"),
            )
        except LintError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        write_lint(
            plan, options["format"], lambda text: self.stdout.write(text, ending=""), self.style
        )
        return EXIT_NEEDS_REVIEW if plan.needs_review else EXIT_OK
