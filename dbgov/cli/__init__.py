"""Subcommands of ``manage.py dbgov``: one module per subcommand, discovered by name.

Each module defines ``Subcommand``, a small class in the style of a BaseCommand:
``help``, ``add_arguments(parser)`` and ``handle(**options)``. It writes only through
``self.stdout`` / ``self.stderr`` / ``self.style`` (so ``--no-color`` and
``call_command`` capture work) and signals failures with
``CommandError(msg, returncode=N)``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any

from django.core.management.base import BaseCommand, OutputWrapper
from django.core.management.color import Style

EXIT_OK = 0
EXIT_NEEDS_REVIEW = 1
EXIT_ERROR = 2


class BaseSubcommand:
    help = ""
    # Subcommands that do not need the database connection checks (e.g. `rules`).
    requires_system_checks = False

    def __init__(self, parent: BaseCommand) -> None:
        self.parent = parent
        self.stdout: OutputWrapper = parent.stdout
        self.stderr: OutputWrapper = parent.stderr
        self.style: Style = parent.style

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        pass

    def handle(self, **options: Any) -> int | None:  # returns the exit code
        raise NotImplementedError


def discover() -> dict[str, type[BaseSubcommand]]:
    """Map subcommand names to classes; module ``foo_bar`` is subcommand ``foo-bar``."""
    found: dict[str, type[BaseSubcommand]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        cls = getattr(module, "Subcommand", None)
        if cls is not None:
            found[info.name.replace("_", "-")] = cls
    return found
