"""``python -m dbgov lint|rules …`` (and the ``dbgov`` console script) without a Django
project: the subcommands that need no database, on the default settings. Inside a
project (DJANGO_SETTINGS_MODULE set), its ``DBGOV`` settings apply.

``lint`` runs without Django's management machinery (it only needs the analysis
package), which keeps a CI run over thousands of statements fast."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    no_color = "--no-color" in argv
    argv = [a for a in argv if a != "--no-color"]
    parser = argparse.ArgumentParser(prog="dbgov", description="dbgov without a Django project")
    parser.add_argument("--no-color", action="store_true", help="plain output")
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    from dbgov.lint import add_lint_arguments

    lint_help = "Lint plain SQL files with the SQL rules (exit 0 ok, 1 needs review, 2 error)."
    add_lint_arguments(sub.add_parser("lint", help=lint_help, description=lint_help))
    rules_parser = sub.add_parser("rules", help="List the rule catalogue.")
    rules_parser.add_argument("--format", choices=["text", "json"], default="text")
    rules_parser.add_argument("--category")
    rules_parser.add_argument("--sql-only", action="store_true")
    options = vars(parser.parse_args(argv))
    plain = options.pop("no_color") or no_color or not sys.stdout.isatty()
    name = options.pop("subcommand")
    if name == "lint":
        return _lint(options, plain)
    return _rules(options, plain)


class _Plain:
    """A style that leaves text alone (what Django's no_style() does, without Django)."""

    def __getattr__(self, name: str) -> object:
        return str


def _style(plain: bool) -> object:
    if plain:
        return _Plain()
    from django.core.management.color import color_style

    return color_style()


def _project_settings() -> dict | None:
    """The project's DBGOV settings when run inside one; None (the defaults) otherwise.

    Without a project nothing of Django is imported: the lint path only needs dbgov's
    analysis package, which keeps start-up short."""
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return {}
    from dbgov.conf import dbgov_settings

    return dict(dbgov_settings.merged)


def _configure_django() -> None:
    from django.conf import settings

    if not os.environ.get("DJANGO_SETTINGS_MODULE") and not settings.configured:
        settings.configure(INSTALLED_APPS=[], DBGOV={}, USE_TZ=True)


def _lint(options: dict, plain: bool) -> int:
    from dbgov.lint import LintError, lint_files, write_lint

    try:
        plan = lint_files(
            options["paths"],
            assume_in_transaction=options["assume_in_transaction"],
            pg_version=options["pg_version"],
            settings=_project_settings(),
            jobs=options["jobs"],
        )
    except LintError as exc:
        sys.stderr.write(f"dbgov lint: error: {exc}\n")
        return 2
    write_lint(plan, options["format"], sys.stdout.write, _style(plain))
    sys.stdout.flush()
    return 1 if plan.needs_review else 0


def _rules(options: dict, plain: bool) -> int:
    _configure_django()
    from django.core.management.base import BaseCommand

    from dbgov.cli.rules import Subcommand

    parent = BaseCommand()
    parent.style = _style(plain)  # type: ignore[assignment]
    code = Subcommand(parent).handle(**options)
    sys.stdout.flush()
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
