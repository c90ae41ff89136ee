"""``manage.py dbgov <subcommand>``: one command, many subcommands (see dbgov.cli)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dbgov.cli import discover
from dbgov.cli.errors import OneLineParser, clear_errors


class Command(BaseCommand):
    help = "Govern PostgreSQL migrations: plan, check, lint, tasks, explain, seed, …"
    requires_system_checks: list[str] = []  # each subcommand checks what it needs

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds a CommandParser; ours differs only in error(): one line, exit 2.
        parser.__class__ = OneLineParser
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        self._subcommands = discover()
        sub = parser.add_subparsers(
            dest="subcommand",
            required=True,
            title="subcommands",
            metavar="SUBCOMMAND",
            parser_class=OneLineParser,
        )
        for name, cls in self._subcommands.items():
            subparser = sub.add_parser(
                name,
                help=cls.help,
                description=cls.help,
                called_from_command_line=getattr(parser, "called_from_command_line", None),
            )
            _add_common_options(subparser)
            cls(self).add_arguments(subparser)

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        cls = discover()[subcommand]
        with clear_errors(
            f"dbgov {subcommand}",
            traceback=bool(options.get("traceback")),
            database=options.get("database") or "default",
        ):
            code = cls(self).handle(**options)
        if code:
            # Like `migrate --check`: a non-zero exit for "a human must look";
            # errors are raised as CommandError(msg, returncode=EXIT_ERROR).
            self.stdout.flush()
            sys.exit(code)


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    """Accept Django's common options after the subcommand too (`dbgov plan --no-color`).

    SUPPRESS keeps the parent parser's value when the option is not repeated here.
    """
    parser.add_argument(
        "--no-color",
        action="store_true",
        default=argparse.SUPPRESS,
        help="Don't colorize the output.",
    )
    parser.add_argument(
        "--force-color", action="store_true", default=argparse.SUPPRESS, help="Force colorization."
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        default=argparse.SUPPRESS,
        help="Raise on CommandError exceptions.",
    )
    # manage.py reads --settings/--pythonpath from anywhere in argv before the command
    # runs; accept them here so `manage.py dbgov plan --settings X` parses too.
    parser.add_argument("--settings", default=argparse.SUPPRESS, help="settings module")
    parser.add_argument("--pythonpath", default=argparse.SUPPRESS, help="added to sys.path")
    parser.add_argument(
        "-v",
        "--verbosity",
        type=int,
        choices=[0, 1, 2, 3],
        default=argparse.SUPPRESS,
        help="Verbosity level; 0=minimal output, 1=normal output, 2=verbose output, 3=very verbose output",
    )
