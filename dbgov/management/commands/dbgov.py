"""``manage.py dbgov <subcommand>``: one command, many subcommands (see dbgov.cli)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dbgov.cli import discover


class Command(BaseCommand):
    help = "Govern PostgreSQL migrations: plan, check, lint, tasks, explain, seed, …"
    requires_system_checks: list[str] = []  # each subcommand checks what it needs

    def add_arguments(self, parser: CommandParser) -> None:
        self._subcommands = discover()
        sub = parser.add_subparsers(
            dest="subcommand",
            required=True,
            title="subcommands",
            metavar="SUBCOMMAND",
            parser_class=type(parser),
        )
        for name, cls in self._subcommands.items():
            subparser = sub.add_parser(
                name,
                help=cls.help,
                description=cls.help,
                called_from_command_line=getattr(parser, "called_from_command_line", None),
            )
            cls(self).add_arguments(subparser)

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        cls = discover()[subcommand]
        code = cls(self).handle(**options)
        if code:
            # Like `migrate --check`: a non-zero exit for "a human must look";
            # errors are raised as CommandError(msg, returncode=EXIT_ERROR).
            self.stdout.flush()
            sys.exit(code)
