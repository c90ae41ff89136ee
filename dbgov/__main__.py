"""``python -m dbgov lint|rules …`` (and the ``dbgov`` console script) without a Django
project: the subcommands that need no database run on minimal settings. Inside a
project (DJANGO_SETTINGS_MODULE set), its ``DBGOV`` settings apply."""

from __future__ import annotations

import argparse
import os
import sys

STANDALONE = ("lint", "rules")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    no_color = "--no-color" in argv
    argv = [a for a in argv if a != "--no-color"]
    from django.conf import settings

    if not os.environ.get("DJANGO_SETTINGS_MODULE") and not settings.configured:
        settings.configure(INSTALLED_APPS=[], DBGOV={}, USE_TZ=True)

    import importlib

    from django.core.management.base import BaseCommand, CommandError
    from django.core.management.color import no_style

    parser = argparse.ArgumentParser(prog="dbgov", description="dbgov without a Django project")
    parser.add_argument("--no-color", action="store_true", help="plain output")
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    parent = BaseCommand()
    commands = {}
    for name in STANDALONE:
        # only these modules: other subcommands need the Django apps loaded
        cls = importlib.import_module(f"dbgov.cli.{name}").Subcommand
        commands[name] = cls
        cls(parent).add_arguments(sub.add_parser(name, help=cls.help, description=cls.help))
    options = vars(parser.parse_args(argv))
    if options.pop("no_color") or no_color or not sys.stdout.isatty():
        parent.style = no_style()
    name = options.pop("subcommand")
    try:
        code = commands[name](parent).handle(**options)
    except CommandError as exc:
        sys.stderr.write(f"dbgov {name}: error: {exc}\n")
        return exc.returncode
    sys.stdout.flush()
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
