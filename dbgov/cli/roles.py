"""``manage.py dbgov roles``: create the DBA group (and add reviewers to it)."""

from __future__ import annotations

import argparse
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from . import EXIT_ERROR, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = "Create or complete the DBA group (dbgov.approve_finding + view dbgov); --add USER."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--add", nargs="+", default=[], metavar="USER", help="add users")
        parser.add_argument("--database", default="default")

    def handle(self, **options: Any) -> int:
        from ..governance.roles import ensure_dba_group
        from ..governance.services import audit

        group = ensure_dba_group(options["database"])
        User = get_user_model()
        for name in options["add"]:
            try:
                user = User._default_manager.get_by_natural_key(name)
            except User.DoesNotExist:
                raise CommandError(f"unknown user {name!r}", returncode=EXIT_ERROR) from None
            user.groups.add(group)
            audit("role.granted", subject=name, data={"group": group.name})
        self.stdout.write(
            self.style.SUCCESS(
                f"Group {group.name!r}: {group.permissions.count()} permissions, "
                f"{group.user_set.count()} members."
            )
        )
        return 0
